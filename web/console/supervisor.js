//! The supervisor view, shown only when `GET /supervisor` answers 200 (an agent gets 403
//! and never sees it): a "Supervision" view beside "Chats", with the overview's tables
//! refreshed every 3 s while it is in front and the page visible (and on "Refresh"), and
//! per live chat "Monitor" (opens it read only in a tab) and "Take over" (opens it as a
//! normal chat). Both log the supervisor in to work first when needed.

/** @import { Overview, LiveChat, Status } from './types.js' */
import { api, chatPath, ApiError } from './api.js';
import { byId } from './dom.js';
import { fillOverview } from './sup-tables.js';

/** The overview is read again this often while it is in view. */
export const REFRESH_MS = 3000;

const CLOCK = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/**
 * @typedef {{
 *   announce: (msg: string) => void,
 *   status: (s: Status) => void,
 *   monitor: (chatId: string, view: any) => void,
 *   takeOver: (chatId: string, view: any) => void,
 * }} SupervisorHooks
 */

export class SupervisorView {
  /** @param {SupervisorHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.allowed = false;
    this.showing = false;
    /** @type {Overview | null} */
    this.last = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.loading = false;
    this.nav = byId('views', HTMLElement);
    this.chatsBtn = byId('view-chats', HTMLButtonElement);
    this.supBtn = byId('view-supervisor', HTMLButtonElement);
    this.desk = byId('desk', HTMLElement);
    this.section = byId('supervisor', HTMLElement);
    this.updated = byId('sup-updated', HTMLParagraphElement);
    this.error = byId('sup-error', HTMLParagraphElement);
    this.truncated = byId('sup-truncated', HTMLParagraphElement);
    this.bodies = {
      queues: byId('sup-queues-body', HTMLTableSectionElement),
      agents: byId('sup-agents-body', HTMLTableSectionElement),
      chats: byId('sup-chats-body', HTMLTableSectionElement),
    };
    this.chatsBtn.addEventListener('click', () => this.show(false));
    this.supBtn.addEventListener('click', () => this.show(true));
    byId('sup-refresh', HTMLButtonElement).addEventListener('click', () => void this.refresh(true));
    document.addEventListener('visibilitychange', () => this.schedule(0));
  }

  /** Asks the server whether this account supervises; shows or hides the view. */
  async probe() {
    try {
      const o = await api('GET', '/supervisor');
      this.allowed = true;
      this.draw(o);
    } catch {
      this.allowed = false; // 403 for an agent (or a server without the view)
    }
    this.nav.hidden = !this.allowed;
    if (!this.allowed) this.show(false);
    return this.allowed;
  }

  /** Leaves the view (sign-out). */
  reset() {
    this.allowed = false;
    this.last = null;
    this.nav.hidden = true;
    this.show(false);
  }

  /** Puts the overview (true) or the chats (false) in front. @param {boolean} on */
  show(on) {
    this.showing = on && this.allowed;
    this.section.hidden = !this.showing;
    this.desk.hidden = this.showing;
    this.chatsBtn.setAttribute('aria-pressed', String(!this.showing));
    this.supBtn.setAttribute('aria-pressed', String(this.showing));
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.showing) void this.refresh();
  }

  /** Plans the next refresh (only while the view is in front and the page visible). @param {number} ms */
  schedule(ms) {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.showing || document.visibilityState !== 'visible') return;
    this.timer = setTimeout(() => void this.refresh(), ms);
  }

  /** Reads the overview now. @param {boolean} [asked] the Refresh button: say so when done */
  async refresh(asked = false) {
    if (this.loading) return;
    this.loading = true;
    try {
      this.draw(await api('GET', '/supervisor'));
      this.error.textContent = '';
      if (asked) this.hooks.announce('Overview refreshed.');
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) {
        this.reset();
        return;
      }
      this.error.textContent = `Could not refresh the overview: ${e instanceof Error ? e.message : e}`;
    } finally {
      this.loading = false;
      this.schedule(REFRESH_MS);
    }
  }

  /** @param {Overview} o */
  draw(o) {
    this.last = o;
    fillOverview(this.bodies, o, {
      monitor: (c) => void this.act(c, 'monitor'),
      takeOver: (c) => void this.act(c, 'take-over'),
    });
    this.truncated.hidden = !o.truncated;
    this.updated.textContent = `Updated ${CLOCK.format(new Date())}`;
  }

  /** Queue names and agents from the last overview (for the transfer dialog). */
  targets() {
    return {
      queues: (this.last?.queues || []).map((q) => q.queue),
      agents: (this.last?.agents || []).map((a) => ({ id: a.id, name: a.name })),
    };
  }

  /**
   * Monitors or takes over a chat, logging in to work first when the server asks for it.
   * @param {LiveChat} c
   * @param {'monitor' | 'take-over'} what
   */
  async act(c, what) {
    const call = () => api('POST', chatPath(c.chat_id, `/${what}`));
    let view;
    try {
      try {
        view = await call();
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 'not_logged_in')) throw e;
        this.hooks.status(await api('POST', '/login'));
        view = await call();
      }
    } catch (e) {
      const why = e instanceof ApiError && e.code === 'chat_ended' ? 'the chat has ended' : e instanceof Error ? e.message : String(e);
      this.error.textContent = `Could not ${what === 'monitor' ? 'monitor' : 'take over'} the chat with ${c.customer || 'the customer'}: ${why}.`;
      void this.refresh();
      return;
    }
    this.show(false);
    if (what === 'monitor') this.hooks.monitor(c.chat_id, view);
    else this.hooks.takeOver(c.chat_id, view);
  }
}
