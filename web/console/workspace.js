//! The open chats: tabs (arrow keys move between them), one panel each, unread counts in
//! the tabs and the document title, and resuming every chat after a drop or a reload.
//! A supervisor's monitored chats are tabs too (read only until taken over).

import { ChatPanel } from './chat-panel.js';
import { beep, notify } from './alerts.js';
import { remember, rememberActive, recallActive } from './memory.js';

const TITLE = 'Chinwag console';

export class Workspace {
  /**
   * @param {HTMLElement} tablist
   * @param {HTMLElement} panels
   * @param {HTMLElement} empty shown when no chat is open
   * @param {(msg: string) => void} announce
   * @param {{ myId: () => string | undefined, transfer: (chat: ChatPanel) => void }} who
   */
  constructor(tablist, panels, empty, announce, who) {
    this.tablist = tablist;
    this.panels = panels;
    this.empty = empty;
    this.announce = announce;
    this.who = who;
    /** @type {Map<string, ChatPanel>} */
    this.chats = new Map();
    /** @type {string | null} */
    this.activeId = null;
    this.offerCount = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.titleTimer = null;
    /** Chats whose tab the agent closed: late events for them open no new tab. */
    this.dismissed = new Set();
    /** The chat in front before a reload (read once: opening chats rewrites it). */
    this.wantActive = recallActive();
    tablist.addEventListener('keydown', (e) => this.tabKey(e));
    document.addEventListener('visibilitychange', () => this.current()?.seen());
    window.addEventListener('focus', () => this.current()?.seen());
  }

  current() {
    return this.activeId ? this.chats.get(this.activeId) || null : null;
  }

  /**
   * The panel of a chat, created (and loaded from its first event) when new. With a `mode`,
   * an open panel takes that mode, and one that is over is replaced by a new one.
   * @param {string} id
   * @param {'agent' | 'monitor'} [mode]
   * @returns {ChatPanel}
   */
  open(id, mode) {
    let chat = this.chats.get(id);
    if (chat && mode && chat.closed) {
      const wasActive = this.activeId === id;
      this.drop(chat);
      if (wasActive) this.activeId = null;
      chat = undefined;
    }
    if (chat) {
      if (mode && mode !== chat.mode) chat.setMode(mode);
      return chat;
    }
    this.dismissed.delete(id);
    chat = new ChatPanel(id, {
      myId: this.who.myId,
      transfer: this.who.transfer,
      announce: this.announce,
      changed: () => this.paintTitle(),
      activate: (cid) => this.activate(cid),
      close: (cid) => this.close(cid),
      alert: (cid, title, body) => {
        beep();
        notify(cid, title, body, () => this.activate(cid));
      },
    }, mode);
    this.chats.set(id, chat);
    this.tablist.append(chat.tab);
    this.panels.append(chat.panel);
    chat.paintTab();
    if (!this.activeId || this.wantActive === id) this.activate(id);
    if (this.wantActive === id) this.wantActive = null;
    this.empty.hidden = true;
    void chat.sync().catch(() => {});
    return chat;
  }

  /**
   * Shows a chat's tab; `focus`: also move focus to its composer.
   * @param {string} id
   * @param {boolean} [focus]
   */
  activate(id, focus = false) {
    const chat = this.chats.get(id);
    if (!chat) return;
    for (const c of this.chats.values()) c.setActive(c === chat);
    this.activeId = id;
    rememberActive(id);
    if (focus) (chat.closed || chat.mode === 'monitor' ? chat.tab : chat.text).focus();
    this.paintTitle();
  }

  /** @param {number} step +1 next, -1 previous */
  cycle(step) {
    const ids = [...this.chats.keys()];
    if (!ids.length) return;
    const at = this.activeId ? ids.indexOf(this.activeId) : -1;
    const next = ids[(at + step + ids.length) % ids.length];
    this.activate(next, true);
  }

  /** Removes a chat's tab (only once it is over for this agent). @param {string} id */
  close(id) {
    const chat = this.chats.get(id);
    if (!chat) return;
    const ids = [...this.chats.keys()];
    const at = ids.indexOf(id);
    this.drop(chat);
    this.dismissed.add(id);
    remember(id, null);
    if (this.activeId === id) {
      this.activeId = null;
      const next = ids[at + 1] || ids[at - 1];
      if (next && next !== id) this.activate(next, true);
    }
    this.empty.hidden = this.chats.size > 0;
    this.paintTitle();
  }

  /** Takes a panel off the page. @param {ChatPanel} chat */
  drop(chat) {
    chat.markClosed('Closed.', 'closed'); // stops its timers
    chat.tab.remove();
    chat.panel.remove();
    this.chats.delete(chat.id);
  }

  /** Closes every chat (sign-out). */
  clearAll() {
    for (const id of [...this.chats.keys()]) this.close(id);
    this.dismissed.clear();
  }

  /**
   * Shows a live event: in its chat's tab, opened when new (unless the agent closed it).
   * @param {string} id
   * @param {import('./types.js').ChatEvent} event
   */
  event(id, event) {
    if (this.dismissed.has(id) && !this.chats.has(id)) return;
    this.open(id).add([event], true);
  }

  /**
   * After a (re)connect: opens the agent's chats and fetches what each missed since the
   * last index it saw; chats no longer listed are refetched once (they may have ended).
   * @param {string[]} ids the chats the status lists
   */
  resume(ids) {
    // The chat that was in front opens first, so no other is briefly in front (which would
    // count its news as read).
    const want = this.wantActive;
    const order = want && ids.includes(want) ? [want, ...ids.filter((i) => i !== want)] : ids;
    for (const id of order) {
      this.dismissed.delete(id);
      const chat = this.chats.get(id);
      if (chat) void chat.sync().catch(() => {});
      else this.open(id);
    }
    for (const chat of this.chats.values()) {
      if (!ids.includes(chat.id) && !chat.closed) void chat.sync().catch(() => {});
    }
  }

  /** @param {KeyboardEvent} e */
  tabKey(e) {
    const keys = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    const step = /** @type {Record<string, number>} */ (keys)[e.key];
    if (!step) return;
    e.preventDefault();
    this.cycle(step);
    this.current()?.tab.focus();
  }

  unread() {
    let n = 0;
    for (const c of this.chats.values()) n += c.unread;
    return n;
  }

  /** Writes the unread count and offers into the document's title, at most every 100 ms
   * (setting the title is costly and a busy console changes it on every message). */
  paintTitle() {
    if (this.titleTimer !== null) return;
    this.titleTimer = setTimeout(() => {
      this.titleTimer = null;
      const n = this.unread();
      const parts = [];
      if (n) parts.push(`(${n})`);
      if (this.offerCount) parts.push(`${this.offerCount} offer${this.offerCount > 1 ? 's' : ''} ·`);
      parts.push(TITLE);
      const title = parts.join(' ');
      if (document.title !== title) document.title = title;
    }, 100);
  }
}
