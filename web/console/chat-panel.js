//! One chat on screen: its tab (with the unread count), the transcript, the customer's
//! typing preview, the composer (text, canned responses, push URL), end / leave, the
//! customer panel and the files. It fetches its own events; merging is `ChatLog`'s.

/** @import { ChatEvent, ChatView } from './types.js' */
import { api, chatPath, ApiError } from './api.js';
import { h } from './dom.js';
import { ChatLog } from './chat-log.js';
import { renderEvent, place, who } from './transcript.js';
import { customerName, renderCustomer } from './customer.js';
import { FilesBox } from './files.js';
import { CANNED } from './canned.js';
import { recall, remember } from './memory.js';

/** The typing preview disappears this long after the customer's last keystroke news. */
export const PREVIEW_MS = 30000;
/** Our own "typing" ends this long after the last key. */
const TYPING_IDLE_MS = 4000;
/** Pages fetched at most in one sync (each up to the server's page size). */
const MAX_PAGES = 1000;

let seq = 0;

/**
 * @typedef {{
 *   announce: (msg: string) => void,
 *   changed: () => void,
 *   activate: (id: string) => void,
 *   close: (id: string) => void,
 *   alert: (id: string, title: string, body: string) => void,
 * }} PanelHooks
 */

export class ChatPanel {
  /**
   * @param {string} chatId
   * @param {PanelHooks} hooks
   */
  constructor(chatId, hooks) {
    this.id = chatId;
    this.hooks = hooks;
    this.uid = `chat${++seq}`;
    this.log = new ChatLog();
    /** @type {ChatView | null} */
    this.view = null;
    const saved = recall(chatId);
    this.unread = saved?.unread ?? 0;
    /** Before a reload this tab had shown every event up to here (null: nothing known). */
    this.seenBefore = saved ? saved.seen : null;
    this.closed = false;
    this.active = false;
    this.syncing = false;
    this.syncAgain = false;
    this.typingSent = false;
    /** The transcript follows new lines while the agent has not scrolled up. */
    this.stuck = true;
    this.scrollPending = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.typingTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.previewTimer = undefined;
    const u = this.uid;
    this.tabName = h('span', { class: 'tab-name' }, 'Chat');
    this.tabBadge = h('span', { class: 'badge', hidden: true });
    this.tab = h('button', {
      type: 'button', role: 'tab', id: `${u}-tab`, 'aria-controls': `${u}-panel`,
      'aria-selected': 'false', tabindex: '-1', class: 'tab', 'data-chat': this.id,
      onclick: () => this.hooks.activate(this.id),
    }, this.tabName, this.tabBadge);

    this.logEl = h('div', { role: 'log', class: 'transcript', id: `${u}-log`, 'aria-label': 'Transcript', tabindex: '0' });
    this.logEl.addEventListener('scroll', () => {
      const box = this.logEl;
      this.stuck = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
    }, { passive: true });
    this.preview = h('p', { class: 'preview', id: `${u}-preview` });
    this.state = h('p', { class: 'chat-state' });
    this.text = h('textarea', { id: `${u}-text`, rows: 3, maxlength: 16384, 'aria-describedby': `${u}-preview`,
      oninput: () => this.typed(), onkeydown: (e) => this.composerKey(/** @type {KeyboardEvent} */ (e)) });
    this.canned = h('select', { id: `${u}-canned`, class: 'canned', onchange: () => this.insertCanned() },
      h('option', { value: '' }, 'Insert a canned response…'),
      ...CANNED.map((c, i) => h('option', { value: String(i) }, c.label)));
    this.sendBtn = h('button', { type: 'submit', class: 'primary' }, 'Send');
    this.composer = h('form', { class: 'composer', onsubmit: (e) => this.send(e) },
      h('label', { for: `${u}-text` }, 'Message'), this.text,
      h('div', { class: 'row' },
        h('label', { for: `${u}-canned`, class: 'visually-hidden' }, 'Canned response'), this.canned,
        this.sendBtn));
    this.url = h('input', { type: 'url', id: `${u}-url`, placeholder: 'https://', autocomplete: 'off' });
    this.pushForm = h('form', { class: 'push row', onsubmit: (e) => this.pushUrl(e) },
      h('label', { for: `${u}-url` }, 'Push a URL'), this.url, h('button', { type: 'submit' }, 'Push'));
    this.endBtn = h('button', { type: 'button', class: 'danger', onclick: () => this.finish('end') }, 'End chat');
    this.leaveBtn = h('button', { type: 'button', onclick: () => this.finish('leave') }, 'Leave chat');
    this.closeBtn = h('button', { type: 'button', hidden: true, onclick: () => this.hooks.close(this.id) }, 'Close tab');
    this.title = h('h2', { id: `${u}-title` }, 'Chat');
    this.customer = h('dl', { class: 'customer' });
    this.files = new FilesBox(this.id, u, this.hooks.announce);

    this.panel = h('section', { role: 'tabpanel', id: `${u}-panel`, 'aria-labelledby': `${u}-tab`, class: 'chat', hidden: true },
      h('div', { class: 'chat-main' },
        h('header', { class: 'chat-head' }, this.title, this.state,
          h('div', { class: 'actions' }, this.leaveBtn, this.endBtn, this.closeBtn)),
        this.logEl, this.preview, this.composer, this.pushForm),
      h('aside', { class: 'chat-side', 'aria-label': 'Customer and files' },
        h('section', { 'aria-labelledby': `${u}-ch` }, h('h3', { id: `${u}-ch` }, 'Customer'), this.customer),
        this.files.el));
  }

  /** The name shown on the tab and heading. */
  name() {
    return customerName(this.view, this.log.events.values()) || `Chat ${this.id.slice(0, 6)}`;
  }

  /** @param {boolean} on */
  setActive(on) {
    this.active = on;
    this.tab.setAttribute('aria-selected', String(on));
    this.tab.tabIndex = on ? 0 : -1;
    this.panel.hidden = !on;
    if (on) this.seen();
  }

  /** The agent is looking at this chat: its unread count goes to zero. */
  seen() {
    if (!this.active || document.visibilityState !== 'visible' || this.unread === 0) return;
    this.unread = 0;
    this.paintTab();
    this.memorize();
    this.hooks.changed();
  }

  paintTab() {
    const name = this.name();
    this.tabName.textContent = name;
    this.title.textContent = name;
    this.tabBadge.hidden = this.unread === 0;
    this.tabBadge.textContent = this.unread ? String(this.unread) : '';
    this.tab.setAttribute('aria-label', this.unread ? `${name}, ${this.unread} unread` : name);
    this.tab.classList.toggle('ended', this.closed);
  }

  /**
   * Fetches every event from the first one not seen, page by page, asking for the next page
   * while this one is drawn; coalesces calls made meanwhile.
   */
  async sync() {
    if (this.closed && this.view) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    /** @param {number} from @returns {Promise<ChatView>} */
    const get = (from) => {
      const p = api('GET', chatPath(this.id, `?from=${from}`));
      p.catch(() => {}); // a prefetch dropped unread must not be an unhandled rejection
      return p;
    };
    try {
      do {
        this.syncAgain = false;
        let pending = get(this.log.resumeFrom);
        for (let page = 0; page < MAX_PAGES; page++) {
          const from = this.log.resumeFrom;
          const view = await pending;
          const next = view.events?.length && Number.isSafeInteger(view.next_position) ? Number(view.next_position) : 0;
          if (next > from) pending = get(next);
          const first = !this.view;
          this.view = view;
          this.add(view.events || [], !first);
          this.showView();
          if (!(next > from) || this.log.resumeFrom === from) break;
          if (this.log.resumeFrom !== next) pending = get(this.log.resumeFrom);
        }
      } while (this.syncAgain);
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'not_in_chat' || e.status === 404)) this.markClosed('You are no longer in this chat.');
      else throw e;
    } finally {
      this.syncing = false;
    }
  }

  showView() {
    if (!this.view) return;
    renderCustomer(this.customer, this.view, customerName(this.view, this.log.events.values()));
    if (this.view.ended) this.markClosed('The chat has ended.');
    this.paintTab();
  }

  /**
   * Shows events not seen before. `live`: they are news (count as unread, alert).
   * @param {ChatEvent[]} events
   * @param {boolean} live
   */
  add(events, live) {
    const fresh = this.log.merge(events);
    let count = 0;
    /** @type {ChatEvent | null} */
    let lastMsg = null;
    for (const e of fresh) {
      const el = renderEvent(e);
      if (el) place(this.logEl, el, e.index);
      const fromCustomer = e.from?.party_type === 'Client';
      if (e.kind === 'TypingStarted' && fromCustomer && this.recent(e)) this.setPreview(e.text || '');
      if ((e.kind === 'TypingStopped' || e.kind === 'Message' || e.kind === 'ParticipantLeft') && fromCustomer) this.setPreview(null);
      if (e.kind === 'FileUploaded' || e.kind === 'FileDeleted') void this.files.refresh();
      const news = live || (this.seenBefore !== null && e.index > this.seenBefore);
      if (news && fromCustomer && (e.kind === 'Message' || e.kind === 'FileUploaded' || e.kind === 'PushUrl')) {
        count++;
        lastMsg = e;
      }
    }
    for (const i of this.log.trim()) this.logEl.querySelector(`[data-index="${i}"]`)?.remove();
    if (count) {
      const looking = this.active && document.visibilityState === 'visible';
      if (!looking) this.unread += count;
      if (lastMsg) this.hooks.alert(this.id, `${who(lastMsg)} (${this.name()})`, lastMsg.text || lastMsg.kind);
    }
    if (this.log.hasGap) void this.sync().catch(() => {});
    if (fresh.length) {
      if (this.stuck) this.scrollSoon();
      this.memorize();
      this.paintTab();
      this.hooks.changed();
    }
  }

  /** Scrolls to the newest line once per frame (no layout read per event). */
  scrollSoon() {
    if (this.scrollPending) return;
    this.scrollPending = true;
    requestAnimationFrame(() => {
      this.scrollPending = false;
      this.logEl.scrollTop = this.logEl.scrollHeight;
    });
  }

  /** Keeps the last index shown and the unread count for a reload of this tab. */
  memorize() {
    remember(this.id, { seen: this.log.contiguous - 1, unread: this.unread });
  }

  /** @param {ChatEvent} e */
  recent(e) {
    return !e.utc_time_ms || Date.now() - e.utc_time_ms < PREVIEW_MS;
  }

  /** Shows (text) or clears (null) the customer's typing preview. @param {string | null} text */
  setPreview(text) {
    clearTimeout(this.previewTimer);
    if (text === null) {
      this.preview.textContent = '';
      return;
    }
    this.preview.textContent = text ? `${this.name()} is typing: ${text}` : `${this.name()} is typing…`;
    this.previewTimer = setTimeout(() => this.setPreview(null), PREVIEW_MS);
  }

  /** @param {string} why */
  markClosed(why) {
    this.closed = true;
    this.state.textContent = why;
    this.setPreview(null);
    for (const el of this.composer.elements) /** @type {HTMLButtonElement} */ (el).disabled = true;
    for (const el of this.pushForm.elements) /** @type {HTMLButtonElement} */ (el).disabled = true;
    this.endBtn.hidden = true;
    this.leaveBtn.hidden = true;
    this.closeBtn.hidden = false;
    this.files.disable(true);
    this.paintTab();
  }

  typed() {
    clearTimeout(this.typingTimer);
    if (!this.typingSent && this.text.value) {
      this.typingSent = true;
      void this.post('/typing', { typing: true }, true);
    }
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (!this.typingSent) return;
    this.typingSent = false;
    void this.post('/typing', { typing: false }, true);
  }

  /** Enter sends, Shift+Enter is a new line. @param {KeyboardEvent} e */
  composerKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.composer.requestSubmit();
    }
  }

  insertCanned() {
    const c = CANNED[Number(this.canned.value)];
    this.canned.value = '';
    if (!c || this.canned.selectedIndex < 0) return;
    const t = this.text;
    const at = t.selectionStart ?? t.value.length;
    t.setRangeText(c.text, at, t.selectionEnd ?? at, 'end');
    t.focus();
    this.typed();
  }

  /** @param {Event} e */
  async send(e) {
    e.preventDefault();
    const text = this.text.value.trim();
    if (!text) return;
    this.sendBtn.disabled = true;
    try {
      const res = await this.post('/messages', { text });
      if (res) {
        this.text.value = '';
        this.typingSent = false;
        clearTimeout(this.typingTimer);
        this.add(res.events || [], false);
      }
    } finally {
      this.sendBtn.disabled = this.closed;
    }
  }

  /** @param {Event} e */
  async pushUrl(e) {
    e.preventDefault();
    const raw = this.url.value.trim();
    let ok;
    try {
      const u = new URL(raw);
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) {
      this.hooks.announce('Push a full http:// or https:// address.');
      return;
    }
    const res = await this.post('/push-url', { url: raw });
    if (res) {
      this.url.value = '';
      this.add(res.events || [], false);
    }
  }

  /** @param {'end' | 'leave'} how */
  async finish(how) {
    const res = await this.post(how === 'end' ? '/end' : '/leave');
    if (res === null) return;
    if (res.events) this.add(res.events, false);
    this.markClosed(how === 'end' ? 'You ended the chat.' : 'You left the chat.');
    this.hooks.announce(how === 'end' ? `Chat with ${this.name()} ended.` : `You left the chat with ${this.name()}.`);
  }

  /**
   * Posts to the chat; answers the JSON (or `{}` for 204), null after announcing a failure.
   * @param {string} rest
   * @param {object} [body]
   * @param {boolean} [quiet] no announcement on failure (typing notifications)
   */
  async post(rest, body, quiet = false) {
    try {
      return (await api('POST', chatPath(this.id, rest), body)) ?? {};
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'chat_ended' || e.code === 'not_in_chat')) this.markClosed('The chat is over.');
      if (!quiet) this.hooks.announce(`Could not do that: ${e instanceof Error ? e.message : e}`);
      return null;
    }
  }
}
