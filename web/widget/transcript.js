//! The conversation as the customer sees it: GMS events rendered into a `role="log"` list
//! (each index once), the agent's name and typing indicator, and messages still being sent.
import { h } from './dom.js';
import { appendText, safeLink } from './text.js';
import { fill } from './strings.js';

/** @typedef {import('./gms.js').GmsEvent} GmsEvent */
/** @typedef {import('./gms.js').Outgoing} Outgoing */
/** @typedef {import('./strings.js').Strings} Strings */

const TYPING_CLEAR_MS = 30000;

export class Transcript {
  /** @param {Strings} t */
  constructor(t) {
    this.t = t;
    this.log = h('div', { class: 'cw-log', role: 'log', 'aria-label': t.transcript, tabindex: '0' });
    this.pending = h('div', { class: 'cw-pending' });
    this.typing = h('p', { class: 'cw-typing', hidden: true });
    /** @type {Set<number>} */
    this.shown = new Set();
    /** @type {string | null} */
    this.agent = null;
    this.agents = 0;
    this.lastAgentMessage = 0;
    /** @type {number | undefined} */
    this.typingTimer = undefined;
    /** @type {(fileId: string, name: string) => void} */
    this.onDownload = () => {};
  }

  /** @param {GmsEvent} e */
  who(e) {
    if (e.from?.type === 'Client') return this.t.you;
    if (e.from?.type === 'Agent') return e.from.nickname || this.t.someone;
    return this.t.system;
  }

  /** Renders new events; answers what changed for the header. @param {GmsEvent[]} events */
  add(events) {
    for (const e of events) {
      if (this.shown.has(e.index)) continue;
      this.shown.add(e.index);
      this.render(e);
    }
    this.log.scrollTop = this.log.scrollHeight;
  }

  /** @param {GmsEvent} e */
  render(e) {
    const agent = e.from?.type === 'Agent';
    const client = e.from?.type === 'Client';
    const text = typeof e.text === 'string' ? e.text : '';
    switch (e.type) {
      case 'Message': {
        if (agent) {
          this.showTyping(null);
          this.lastAgentMessage = e.index;
        }
        const body = h('p', { class: 'cw-text' });
        appendText(body, text);
        const kind = client ? 'cw-mine' : agent ? 'cw-theirs' : 'cw-system';
        this.item(h('div', { class: `cw-msg ${kind}`, 'data-index': String(e.index) }, h('span', { class: 'cw-who' }, this.who(e)), body));
        return;
      }
      case 'ParticipantJoined':
        if (agent) {
          this.agents += 1;
          this.agent = e.from?.nickname || this.t.someone;
          this.notice(e, fill(this.t.joined, { name: this.agent }));
        }
        return;
      case 'ParticipantLeft':
        if (agent) {
          this.agents = Math.max(0, this.agents - 1);
          this.showTyping(null);
          this.notice(e, fill(this.t.left, { name: e.from?.nickname || this.t.someone }));
          if (!this.agents) this.agent = null;
        }
        return;
      case 'TypingStarted':
        if (agent) this.showTyping(e.from?.nickname || this.t.someone);
        return;
      case 'TypingStopped':
        if (agent) this.showTyping(null);
        return;
      case 'PushUrl': {
        const link = safeLink(text);
        const p = h('p', { class: 'cw-notice', 'data-index': String(e.index) });
        p.append(`${this.who(e)}: `, link || text);
        this.item(p);
        return;
      }
      case 'FileUploaded': {
        const name = String(e.userData?.['file-name'] ?? '');
        const fileId = String(e.userData?.['file-id'] ?? '');
        const p = h('p', { class: 'cw-notice cw-file', 'data-index': String(e.index) }, `${this.who(e)}: `);
        const button = h('button', { type: 'button', class: 'cw-link' }, fill(this.t.download, { name }));
        button.addEventListener('click', () => this.onDownload(fileId, name));
        p.append(button);
        this.item(p);
        return;
      }
      case 'FileDeleted':
        this.notice(e, fill(this.t.fileDeleted, { name: String(e.userData?.['file-name'] ?? '') }));
        return;
      case 'CustomNotice':
      case 'NicknameUpdated':
        return;
      default:
        // Notice, IdleAlert, IdleClose and anything newer: shown as a notice when it has text.
        if (text && !client) this.notice(e, `${this.who(e)}: ${text}`);
    }
  }

  /** @param {GmsEvent} e @param {string} text */
  notice(e, text) {
    const p = h('p', { class: 'cw-notice', 'data-index': String(e.index) });
    appendText(p, text);
    this.item(p);
  }

  /** @param {HTMLElement} el */
  item(el) {
    this.log.append(el);
  }

  /** @param {string | null} name */
  showTyping(name) {
    window.clearTimeout(this.typingTimer);
    this.typing.hidden = !name;
    this.typing.textContent = name ? fill(this.t.agentTyping, { name }) : '';
    if (name) this.typingTimer = window.setTimeout(() => this.showTyping(null), TYPING_CLEAR_MS);
  }

  /** Messages typed but not yet in the transcript. @param {Outgoing[]} outbox */
  showPending(outbox) {
    this.pending.replaceChildren(
      ...outbox.map((o) =>
        h('div', { class: 'cw-msg cw-mine cw-unsent' }, h('span', { class: 'cw-who' }, this.t.sending), h('p', { class: 'cw-text' }, o.text)),
      ),
    );
    this.log.scrollTop = this.log.scrollHeight;
  }

  clear() {
    this.log.replaceChildren();
    this.pending.replaceChildren();
    this.shown.clear();
    this.agent = null;
    this.agents = 0;
    this.showTyping(null);
  }
}
