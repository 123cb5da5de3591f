//! A small Bayeux 1.0 client: handshake, connect, subscribe, publish, disconnect over
//! WebSocket with a long-polling fallback; follows the server's advice, backs off on failures,
//! re-handshakes when the session is gone, and bounds every queue and every wait.

/** @typedef {{channel: string, id?: string, clientId?: string, successful?: boolean, error?: string,
 *   advice?: Advice, data?: any, ext?: any, [k: string]: any}} Message */
/** @typedef {{reconnect?: string, interval?: number, timeout?: number, maxInterval?: number}} Advice */
/** @typedef {'websocket' | 'long-polling'} Transport */
/** @typedef {{resolve: (m: Message) => void, reject: (e: Error) => void, timer: number}} Pending */

const NETWORK_DELAY_MS = 10000; // added to every wait for a reply
const MAX_BACKOFF_MS = 30000;
const MAX_QUEUE = 100; // publishes waiting for a connection

export class BayeuxError extends Error {}

export class Bayeux {
  /**
   * @param {string} url the CometD endpoint, e.g. https://chat.example/genesys/cometd
   * @param {{transport?: Transport}} [options]
   */
  constructor(url, options = {}) {
    this.url = url.replace(/\/+$/, '');
    /** @type {Transport} */
    this.transport = options.transport === 'long-polling' || typeof WebSocket === 'undefined' ? 'long-polling' : 'websocket';
    this.wsWorked = false;
    /** @type {string | null} */
    this.clientId = null;
    this.nextId = 0;
    /** @type {Advice} */
    this.advice = { reconnect: 'retry', interval: 0, timeout: 25000, maxInterval: 10000 };
    /** @type {Map<string, Pending>} */
    this.pending = new Map();
    /** @type {Set<string>} */
    this.channels = new Set();
    /** @type {Array<{message: Message, done: Pending}>} */
    this.queue = [];
    /** @type {WebSocket | null} */
    this.ws = null;
    this.connected = false;
    this.stopped = true;
    this.failures = 0;
    this.ackBatch = 0;
    this.ackOn = false;
    /** @type {number | undefined} */
    this.retryTimer = undefined;
    /** @type {Set<AbortController>} */
    this.polls = new Set();
    /** @type {{[k: string]: Array<(arg: any) => void>}} */
    this.listeners = {};
  }

  /** @param {'message' | 'state' | 'handshake' | 'failed'} kind @param {(arg: any) => void} fn */
  on(kind, fn) {
    (this.listeners[kind] ||= []).push(fn);
  }

  /** @param {string} kind @param {any} [arg] */
  emit(kind, arg) {
    for (const fn of this.listeners[kind] || []) fn(arg);
  }

  /** Starts the session; the connect loop then keeps it alive until `disconnect`. */
  start() {
    this.stopped = false;
    this.handshake();
  }

  /** @param {string} channel */
  subscribe(channel) {
    this.channels.add(channel);
    if (this.connected) this.request({ channel: '/meta/subscribe', subscription: channel }).catch(() => {});
  }

  /**
   * Publishes `data`; resolves with the server's acknowledgement. Waits (bounded) for a
   * connection when there is none.
   * @param {string} channel @param {any} data @returns {Promise<Message>}
   */
  publish(channel, data) {
    const message = { channel, data };
    if (this.connected) return this.request(message);
    if (this.queue.length >= MAX_QUEUE) return Promise.reject(new BayeuxError('queue full'));
    return new Promise((resolve, reject) => {
      const done = { resolve, reject, timer: 0 };
      done.timer = window.setTimeout(() => {
        this.queue = this.queue.filter((q) => q.done !== done);
        reject(new BayeuxError('not connected'));
      }, NETWORK_DELAY_MS * 3);
      this.queue.push({ message, done });
    });
  }

  /** Ends the session (best effort) and stops every timer and socket. */
  async disconnect() {
    if (this.stopped) return;
    const wasConnected = this.connected;
    this.stopped = true;
    this.connected = false;
    window.clearTimeout(this.retryTimer);
    if (wasConnected) await this.request({ channel: '/meta/disconnect' }).catch(() => {});
    this.teardown(new BayeuxError('disconnected'));
  }

  /** Closes sockets and polls, failing everything that waits. @param {Error} why */
  teardown(why) {
    for (const c of this.polls) c.abort();
    this.polls.clear();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = ws.onmessage = ws.onerror = null;
      ws.close();
    }
    for (const [id, p] of this.pending) {
      window.clearTimeout(p.timer);
      p.reject(why);
      this.pending.delete(id);
    }
  }

  /** @param {boolean} on */
  setConnected(on) {
    if (this.connected === on) return;
    this.connected = on;
    this.emit('state', on);
    if (on) {
      for (const { message, done } of this.queue.splice(0)) {
        window.clearTimeout(done.timer);
        this.request(message).then(done.resolve, done.reject);
      }
    }
  }

  /** Schedules the next attempt after a failure, with a growing delay. @param {() => void} what */
  backoff(what) {
    this.failures += 1;
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.failures - 1, 5)) + (this.advice.interval || 0);
    this.later(what, delay);
  }

  /** @param {() => void} what @param {number} ms */
  later(what, ms) {
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => {
      if (!this.stopped) what();
    }, ms);
  }

  async handshake() {
    this.setConnected(false);
    this.teardown(new BayeuxError('re-handshake'));
    this.clientId = null;
    const again = this.ackBatch > 0 || this.wsWorked;
    this.ackBatch = 0;
    try {
      if (this.transport === 'websocket') await this.openSocket();
    } catch {
      if (!this.wsWorked) this.transport = 'long-polling';
      this.backoff(() => this.handshake());
      return;
    }
    let reply;
    try {
      reply = await this.request({
        channel: '/meta/handshake',
        version: '1.0',
        supportedConnectionTypes: ['websocket', 'long-polling'],
        ext: { ack: true },
      });
    } catch {
      this.backoff(() => this.handshake());
      return;
    }
    this.takeAdvice(reply.advice);
    if (!reply.successful) {
      if (this.advice.reconnect === 'none') return this.fail(reply.error);
      this.backoff(() => this.handshake());
      return;
    }
    this.clientId = reply.clientId || null;
    this.ackOn = reply.ext?.ack === true || reply.ext?.ack?.enabled === true;
    if (this.transport === 'websocket') this.wsWorked = true;
    this.failures = 0;
    this.connect(true);
    for (const channel of this.channels) {
      this.request({ channel: '/meta/subscribe', subscription: channel }).catch(() => {});
    }
    this.emit('handshake', again);
  }

  /** @param {string | undefined} error */
  fail(error) {
    this.stopped = true;
    this.setConnected(false);
    this.teardown(new BayeuxError(error || 'refused'));
    this.emit('failed', error);
  }

  /** @param {Advice | undefined} advice */
  takeAdvice(advice) {
    if (advice) this.advice = { ...this.advice, ...advice };
  }

  /** One /meta/connect; the next one is scheduled from its reply. @param {boolean} first */
  async connect(first) {
    if (this.stopped || !this.clientId) return;
    const clientId = this.clientId;
    /** @type {Message} */
    const msg = { channel: '/meta/connect', connectionType: this.transport };
    if (first || !this.connected) msg.advice = { timeout: 0 };
    if (this.ackOn) msg.ext = { ack: this.ackBatch };
    let reply;
    try {
      reply = await this.request(msg, (this.advice.timeout || 0) + NETWORK_DELAY_MS);
    } catch {
      if (this.stopped || clientId !== this.clientId) return;
      this.setConnected(false);
      if (this.transport === 'websocket') {
        // A broken socket means a new session (the server binds it to the connection).
        this.backoff(() => this.handshake());
      } else {
        this.backoff(() => this.connect(false));
      }
      return;
    }
    if (clientId !== this.clientId) return;
    this.takeAdvice(reply.advice);
    if (reply.successful) {
      if (this.ackOn && typeof reply.ext?.ack === 'number') this.ackBatch = reply.ext.ack;
      this.failures = 0;
      this.setConnected(true);
      this.later(() => this.connect(false), Math.max(0, this.advice.interval || 0));
    } else if (this.advice.reconnect === 'none') {
      this.fail(reply.error);
    } else if (this.advice.reconnect === 'handshake') {
      this.setConnected(false);
      this.later(() => this.handshake(), Math.max(0, this.advice.interval || 0));
    } else {
      this.setConnected(false);
      this.backoff(() => this.connect(false));
    }
  }

  /**
   * Sends one message and waits (at most `waitMs`) for the reply with its id.
   * @param {Message} message @param {number} [waitMs] @returns {Promise<Message>}
   */
  request(message, waitMs = NETWORK_DELAY_MS) {
    const id = String(++this.nextId);
    message.id = id;
    if (this.clientId && message.channel !== '/meta/handshake') message.clientId = this.clientId;
    const reply = new Promise((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new BayeuxError('timeout'));
        // A lost reply on a socket leaves its state unknown: start again.
        if (this.ws) this.onSocketGone();
      }, waitMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    if (this.transport === 'long-polling') {
      this.post(message, waitMs);
    } else if (this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify([message]));
    } else {
      this.settle(id, new BayeuxError('no socket'));
    }
    return /** @type {Promise<Message>} */ (reply);
  }

  /** Fails the request `id` if it still waits. @param {string} id @param {Error} why */
  settle(id, why) {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    window.clearTimeout(p.timer);
    p.reject(why);
  }

  /** Long-polling: one POST per message. @param {Message} message @param {number} waitMs */
  async post(message, waitMs) {
    const abort = new AbortController();
    this.polls.add(abort);
    const timer = window.setTimeout(() => abort.abort(), waitMs);
    const suffix = message.channel.startsWith('/meta/') && message.channel !== '/meta/subscribe' ? message.channel.slice(5) : '';
    try {
      const r = await fetch(this.url + suffix, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json;charset=UTF-8' },
        body: JSON.stringify([message]),
        credentials: 'include',
        signal: abort.signal,
      });
      if (!r.ok) throw new BayeuxError(`HTTP ${r.status}`);
      const replies = await r.json();
      if (!Array.isArray(replies)) throw new BayeuxError('bad reply');
      for (const m of replies) this.receive(m);
    } catch (e) {
      this.settle(/** @type {string} */ (message.id), e instanceof Error ? e : new BayeuxError(String(e)));
    } finally {
      window.clearTimeout(timer);
      this.polls.delete(abort);
    }
  }

  /** Opens the WebSocket (bounded wait). @returns {Promise<void>} */
  openSocket() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url.replace(/^http/, 'ws'));
      const timer = window.setTimeout(() => {
        ws.onopen = ws.onclose = ws.onerror = null;
        ws.close();
        reject(new BayeuxError('websocket open timeout'));
      }, NETWORK_DELAY_MS);
      ws.onopen = () => {
        window.clearTimeout(timer);
        this.ws = ws;
        ws.onmessage = (e) => {
          let list;
          try {
            list = JSON.parse(String(e.data));
          } catch {
            return;
          }
          for (const m of Array.isArray(list) ? list : [list]) this.receive(m);
        };
        ws.onclose = () => this.onSocketGone();
        resolve();
      };
      ws.onerror = ws.onclose = () => {
        window.clearTimeout(timer);
        reject(new BayeuxError('websocket failed'));
      };
    });
  }

  onSocketGone() {
    if (this.stopped || !this.ws) return;
    this.teardown(new BayeuxError('socket closed'));
    this.setConnected(false);
    this.backoff(() => this.handshake());
  }

  /** @param {Message} m */
  receive(m) {
    if (!m || typeof m.channel !== 'string') return;
    if (m.data !== undefined && !m.channel.startsWith('/meta/')) {
      this.emit('message', m);
      return;
    }
    const p = m.id === undefined ? undefined : this.pending.get(String(m.id));
    if (p) {
      this.pending.delete(String(m.id));
      window.clearTimeout(p.timer);
      p.resolve(m);
    }
  }
}
