//! One chat on screen: its tab (unread count, and a note once it is over: ended,
//! transferred, taken over), the transcript, the customer's typing preview, the composer,
//! the chat's actions, the "a supervisor is monitoring" indicator, the customer panel and
//! the files. A supervisor's monitored chat is shown read only with "Take over" and "Stop
//! monitoring". It fetches its own events; merging is `ChatLog`'s.

/** @import { ChatEvent, ChatView } from './types.js' */
import { api, chatPath, ApiError } from './api.js';
import { h } from './dom.js';
import { ChatLog } from './chat-log.js';
import { fetchPages } from './chat-fetch.js';
import { renderEvent, place, who } from './transcript.js';
import { customerName, renderCustomer } from './customer.js';
import { FilesBox } from './files.js';
import { Composer } from './composer.js';
import { ChatHead } from './chat-head.js';
import { ChatTab } from './chat-tab.js';
import { monitoredByOther, myPart } from './watch.js';
import { finish, leftLive, takeOver, stopMonitoring } from './chat-actions.js';
import { recall, remember } from './memory.js';

/** The typing preview disappears this long after the customer's last keystroke news. */
export const PREVIEW_MS = 30000;
/** The participants (who monitors) are read again at most this often after events… */
const WHO_AFTER_EVENT_MS = 2000;
/** …and this often without any. */
const WHO_POLL_MS = 15000;

let seq = 0;

/**
 * @typedef {{
 *   announce: (msg: string) => void,
 *   changed: () => void,
 *   activate: (id: string) => void,
 *   close: (id: string) => void,
 *   alert: (id: string, title: string, body: string) => void,
 *   myId: () => string | undefined,
 *   transfer: (chat: ChatPanel) => void,
 * }} PanelHooks
 */

export class ChatPanel {
  /** Whether the event stream is up (set by the page). */
  static streamUp = true;

  /**
   * @param {string} chatId
   * @param {PanelHooks} hooks
   * @param {'agent' | 'monitor'} [mode] 'monitor': read only, until taken over
   */
  constructor(chatId, hooks, mode = 'agent') {
    this.id = chatId;
    this.hooks = hooks;
    this.mode = mode;
    this.uid = `chat${++seq}`;
    this.log = new ChatLog();
    /** @type {ChatView | null} */
    this.view = null;
    const saved = recall(chatId);
    this.unread = saved?.unread ?? 0;
    /** Before a reload this tab had shown every event up to here (null: nothing known). */
    this.seenBefore = saved ? saved.seen : null;
    this.closed = false;
    /** Set while our own leave / end / transfer is under way: our ParticipantLeft is expected. */
    this.leaving = false;
    this.active = false;
    this.syncing = false;
    this.syncAgain = false;
    /** The transcript follows new lines while the agent has not scrolled up. */
    this.stuck = true;
    this.scrollPending = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.previewTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.whoTimer = undefined;
    const u = this.uid;
    this.tabBox = new ChatTab(u, chatId, () => this.hooks.activate(this.id));
    this.tab = this.tabBox.el;

    this.logEl = h('div', { role: 'log', class: 'transcript', id: `${u}-log`, 'aria-label': 'Transcript', tabindex: '0' });
    this.logEl.addEventListener('scroll', () => {
      const box = this.logEl;
      this.stuck = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
    }, { passive: true });
    this.preview = h('p', { class: 'preview', id: `${u}-preview` });
    this.composer = new Composer(u, {
      post: (rest, body, quiet) => this.post(rest, body, quiet),
      add: (events) => this.add(events, false),
      announce: hooks.announce,
    });
    this.text = this.composer.text;
    this.canned = this.composer.canned;
    this.url = this.composer.url;
    this.head = new ChatHead(u, {
      transfer: () => this.hooks.transfer(this),
      leave: () => void this.finish('leave'),
      end: () => void this.finish('end'),
      close: () => this.hooks.close(this.id),
      takeOver: () => void takeOver(this),
      stopMonitoring: () => void stopMonitoring(this),
    });
    this.customer = h('dl', { class: 'customer' });
    this.files = new FilesBox(this.id, u, this.hooks.announce);

    this.panel = h('section', { role: 'tabpanel', id: `${u}-panel`, 'aria-labelledby': `${u}-tab`, class: 'chat', hidden: true },
      h('div', { class: 'chat-main' },
        this.head.el, this.logEl, this.preview, this.composer.form, this.composer.pushForm),
      h('aside', { class: 'chat-side', 'aria-label': 'Customer and files' },
        h('section', { 'aria-labelledby': `${u}-ch` }, h('h3', { id: `${u}-ch` }, 'Customer'), this.customer),
        this.files.el));
    this.setMode(mode);
  }

  /** The name shown on the tab and heading. */
  name() {
    return customerName(this.view, this.log.events.values()) || `Chat ${this.id.slice(0, 6)}`;
  }

  /**
   * 'monitor': read only (no composer, no upload), with "Take over" and "Stop monitoring";
   * 'agent': the full chat.
   * @param {'agent' | 'monitor'} mode
   */
  setMode(mode) {
    this.mode = mode;
    if (this.closed) return;
    const watching = mode === 'monitor';
    this.composer.form.hidden = watching;
    this.composer.pushForm.hidden = watching;
    this.composer.disable(watching);
    this.files.disable(watching);
    this.files.form.hidden = watching;
    this.head.show(watching ? 'monitor' : 'agent');
    this.head.setState(watching ? 'You are monitoring this chat (read only).' : '');
    this.paintTab();
  }

  /** @param {boolean} on */
  setActive(on) {
    this.active = on;
    this.tabBox.select(on);
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
    this.head.title.textContent = name;
    const note = this.closed ? this.head.outcome : this.mode === 'monitor' ? 'monitoring' : '';
    this.tabBox.paint(name, note, this.unread, this.closed);
  }

  /**
   * Fetches every event not seen yet (and with it the participants); coalesces calls made
   * meanwhile.
   */
  async sync() {
    if (this.closed && this.view) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    try {
      do {
        this.syncAgain = false;
        await fetchPages(this.id, this.log, (view) => {
          const first = !this.view;
          this.view = view;
          this.add(view.events || [], !first);
          this.showView();
        });
      } while (this.syncAgain);
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'not_in_chat' || e.status === 404)) this.markClosed('You are no longer in this chat.', 'closed');
      else throw e;
    } finally {
      this.syncing = false;
      this.pollWho(WHO_POLL_MS);
    }
  }

  /**
   * Reads the participants again in `ms` (an earlier read already planned stands). Not while
   * the event stream is down: its reconnect fetches every chat anyway.
   * @param {number} ms
   */
  pollWho(ms) {
    if (this.closed || (this.whoTimer !== undefined && ms >= WHO_POLL_MS)) return;
    clearTimeout(this.whoTimer);
    this.whoTimer = setTimeout(() => {
      this.whoTimer = undefined;
      if (!ChatPanel.streamUp) this.pollWho(WHO_POLL_MS);
      else void this.sync().catch(() => this.pollWho(WHO_POLL_MS));
    }, ms);
  }

  showView() {
    const view = this.view;
    if (!view) return;
    renderCustomer(this.customer, view, customerName(view, this.log.events.values()));
    this.composer.setQueue(view.queue);
    const part = myPart(view, this.hooks.myId());
    if (part && part !== this.mode) this.setMode(part);
    this.head.setWatched(this.mode === 'agent' && monitoredByOther(view, this.hooks.myId()));
    if (view.ended) this.markClosed('The chat has ended.', 'ended');
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
      if (e.kind === 'ParticipantLeft' && live) leftLive(this, e);
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
      if (live) this.pollWho(WHO_AFTER_EVENT_MS);
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

  /**
   * The chat is over for this agent: read only, with "Close tab".
   * @param {string} why the state line
   * @param {string} outcome the tab's note (ended, transferred, taken over, …)
   */
  markClosed(why, outcome) {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.whoTimer);
    this.head.close(why, outcome);
    this.setPreview(null);
    this.composer.disable(true);
    this.files.disable(true);
    this.paintTab();
  }

  /** @param {'end' | 'leave'} how */
  finish(how) {
    return finish(this, how);
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
      if (e instanceof ApiError && (e.code === 'chat_ended' || e.code === 'not_in_chat')) this.markClosed('The chat is over.', 'ended');
      if (!quiet) this.hooks.announce(`Could not do that: ${e instanceof Error ? e.message : e}`);
      return null;
    }
  }
}
