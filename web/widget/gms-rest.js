//! GMS Chat API v2 over REST: form posts to `/genesys/2/chat/<service>/…`, a `refresh` poll
//! every few seconds, and backoff while the server cannot be reached.

/** @typedef {import('./gms.js').Sink} Sink */

import { GmsRefusal } from './gms-error.js';

const POLL_MS = 2000;
const WAIT_MS = 15000;
const MAX_BACKOFF_MS = 30000;

export class RestChat {
  /** @param {string} server @param {string} service @param {Sink} sink */
  constructor(server, service, sink) {
    this.base = `${server}/genesys/2/chat/${encodeURIComponent(service)}`;
    this.sink = sink;
    this.stopped = false;
    this.failures = 0;
    /** @type {number | undefined} */
    this.timer = undefined;
    this.polling = false;
  }

  /**
   * One POST; answers the GMS body, feeding its events to the sink. Throws on network
   * failures, HTTP 5xx and statusCode 1 (temporary), which put the chat offline.
   * @param {string} path @param {Record<string, any>} fields
   */
  async call(path, fields) {
    const s = this.sink.session();
    const form = new URLSearchParams();
    if (s.secureKey) {
      form.set('userId', s.userId || '');
      form.set('secureKey', s.secureKey);
      form.set('alias', s.alias || '');
    }
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined) form.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
    const abort = new AbortController();
    const timer = window.setTimeout(() => abort.abort(), WAIT_MS);
    let body;
    try {
      const r = await fetch(`${this.base}/${path}`, { method: 'POST', body: form, signal: abort.signal, credentials: 'omit' });
      if (r.status >= 500 || r.status === 429) throw new Error(`HTTP ${r.status}`);
      body = await r.json();
    } catch (e) {
      this.offline();
      throw e;
    } finally {
      window.clearTimeout(timer);
    }
    if (body.statusCode === 1) {
      this.offline();
      throw new Error('temporarily unavailable');
    }
    this.failures = 0;
    this.sink.note(body);
    this.sink.online(true);
    if (body.statusCode === 2) throw new GmsRefusal(body.errors?.[0]?.code);
    return body;
  }

  offline() {
    this.failures += 1;
    this.sink.online(false);
  }

  /** @param {Record<string, any>} request */
  async start(request) {
    const fields = { ...request };
    if (fields.userData) {
      for (const [k, v] of Object.entries(fields.userData)) fields[`userData[${k}]`] = v;
      delete fields.userData;
    }
    try {
      await this.call('', fields);
    } finally {
      this.schedule(POLL_MS);
    }
  }

  resumeChat() {
    this.schedule(0);
  }

  /** @param {number} ms */
  schedule(ms) {
    window.clearTimeout(this.timer);
    if (!this.stopped) this.timer = window.setTimeout(() => this.poll(), ms);
  }

  async poll() {
    if (this.stopped || this.polling) return;
    const s = this.sink.session();
    if (!s.chatId) return;
    this.polling = true;
    try {
      await this.call(`${s.chatId}/refresh`, { transcriptPosition: this.sink.position() });
    } catch {
      // offline; retried below with backoff
    } finally {
      this.polling = false;
    }
    const delay = this.failures ? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.failures, 5)) : POLL_MS;
    this.schedule(delay);
  }

  /** @param {string} op @param {Record<string, any>} [fields] */
  op(op, fields = {}) {
    return this.call(`${this.sink.session().chatId}/${op}`, { ...fields, transcriptPosition: this.sink.position() });
  }

  /** @param {string} text @param {string} cid */
  send(text, cid) {
    return this.op('send', { message: text, messageType: 'text', eventAttributes: { 'cw-id': cid } });
  }

  /** @param {boolean} on @param {string} preview */
  typing(on, preview) {
    return this.op(on ? 'startTyping' : 'stopTyping', { message: preview });
  }

  /** A gap was seen: the next poll (from the first missing index) fills it. */
  fill() {
    this.schedule(0);
  }

  /** @param {number} index */
  read(index) {
    return this.call(`${this.sink.session().chatId}/readReceipt`, { transcriptPosition: index });
  }

  async end() {
    try {
      await this.call(`${this.sink.session().chatId}/disconnect`, {});
    } finally {
      this.close();
    }
  }

  close() {
    this.stopped = true;
    window.clearTimeout(this.timer);
  }

  isUp() {
    return false; // the next poll tells
  }

  reconnectNow() {
    if (!this.polling) this.schedule(0);
  }
}
