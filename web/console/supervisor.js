//! The supervisor view, shown only when `GET /supervisor` answers 200 (an agent gets 403
//! and never sees it; a network failure or a 5xx is asked again, with a growing delay): a
//! "Supervision" view beside "Chats", with the overview's tables refreshed every 3 s while
//! it is in front and the page visible (and on "Refresh"), and per live chat "Monitor"
//! (opens it read only in a tab) and "Take over" (opens it as a normal chat). Both log the
//! supervisor in to work first when needed.

/** @import { Overview, LiveChat, Status } from './types.js' */
import { api, chatPath, ApiError } from './api.js';
import { byId } from './dom.js';
import { fillOverview } from './sup-tables.js';

/** The overview is read again this often while it is in view. */
export const REFRESH_MS = 3000;
/** A probe that got no answer (or a 5xx) is asked again after this long, doubling… */
export const PROBE_RETRY_MS = 1000;
/** …up to this. */
export const PROBE_RETRY_MAX_MS = 30000;

/**
 * Whether a failed probe may succeed later: no answer, a timeout, throttling or a 5xx. Any
 * other answer is final (403: not a supervisor; 401: the session is over).
 * @param {unknown} e
 */
export function transient(e) {
  if (!(e instanceof ApiError)) return false;
  return e.status === 0 || e.status === 408 || e.status === 429 || e.status >= 500;
}

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
    /** Counts sign-ins and sign-outs: a probe answered after one is ignored. */
    this.epoch = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.probeTimer = undefined;
    this.probeDelay = PROBE_RETRY_MS;
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

  /**
   * Asks the server whether this account supervises (after a sign-in); shows the view on
   * 200. Only an answer says no (403 for an agent): without one, or on a 5xx, it asks again
   * later (1 s, doubling up to 30 s) and the view stays out meanwhile.
   */
  async probe() {
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    const epoch = this.epoch;
    try {
      const o = await api('GET', '/supervisor');
      if (epoch !== this.epoch) return false;
      this.allowed = true;
      this.probeDelay = PROBE_RETRY_MS;
      this.draw(o);
    } catch (e) {
      if (epoch !== this.epoch) return false;
      this.allowed = false;
      if (transient(e)) {
        this.probeTimer = setTimeout(() => void this.probe(), this.probeDelay);
        this.probeDelay = Math.min(this.probeDelay * 2, PROBE_RETRY_MAX_MS);
      }
    }
    this.nav.hidden = !this.allowed;
    if (!this.allowed) this.show(false);
    return this.allowed;
  }

  /** Leaves the view and stops asking (sign-out). */
  reset() {
    this.epoch++;
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.probeDelay = PROBE_RETRY_MS;
    this.allowed = false;
    this.last = null;
    this.nav.hidden = true;
    this.setError('');
    this.show(false);
  }

  /**
   * Shows a failure (or '' for none), touching the alert only when its text changes, so a
   * screen reader hears each failure once, not at every refresh.
   * @param {string} text
   */
  setError(text) {
    if (this.error.textContent !== text) this.error.textContent = text;
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
      this.setError('');
      if (asked) this.hooks.announce('Overview refreshed.');
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) {
        this.reset();
        return;
      }
      this.setError(`Could not refresh the overview: ${e instanceof Error ? e.message : e}`);
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
      this.setError(`Could not ${what === 'monitor' ? 'monitor' : 'take over'} the chat with ${c.customer || 'the customer'}: ${why}.`);
      void this.refresh();
      return;
    }
    this.show(false);
    if (what === 'monitor') this.hooks.monitor(c.chat_id, view);
    else this.hooks.takeOver(c.chat_id, view);
  }
}
