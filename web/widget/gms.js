//! The customer's chat, whatever the transport: its session (kept in localStorage so a reload
//! or a second tab restores it), the transcript position that makes every event arrive exactly
//! once, and the outbox that holds messages typed while offline until they are confirmed.
import { CometdChat } from './gms-cometd.js';
import { RestChat } from './gms-rest.js';
import { GmsRefusal } from './gms-error.js';
import { storageKey } from './keys.js';

/** @typedef {{nickname?: string, participantId?: number, type?: string}} Party */
/** @typedef {{index: number, type: string, from?: Party, text?: string, messageType?: string,
 *   utcTime?: number, eventAttributes?: Record<string, any>, userData?: Record<string, any>}} GmsEvent */
/** @typedef {{chatId?: string, userId?: string, secureKey?: string, alias?: string,
 *   transcriptPosition?: number, transport?: string}} Session */
/** @typedef {{session: () => Session, position: () => number, note: (body: any) => void,
 *   online: (on: boolean) => void, fatal: (why: string) => void}} Sink */
/** @typedef {{cid: string, text: string, state: 'queued' | 'sending' | 'sent'}} Outgoing */
/** @typedef {'websocket' | 'long-polling' | 'rest'} TransportName */

const MAX_OUTBOX = 50;


export class Chat {
  /**
   * @param {{server: string, service: string, transport: TransportName,
   *   on: {events: (list: GmsEvent[]) => void, online: (on: boolean) => void,
   *        ended: () => void, error: (code: string) => void, outbox: () => void}}} options
   */
  constructor(options) {
    this.options = options;
    this.key = storageKey(options.server, options.service);
    /** @type {Session} */
    this.s = {};
    this.lastIndex = 0;
    this.gapAt = 0;
    this.isOnline = false;
    this.ended = false;
    /** @type {Outgoing[]} */
    this.outbox = [];
    this.flushing = false;
    /** @type {CometdChat | RestChat | null} */
    this.backend = null;
  }

  /** The chat saved by this page's origin, if any. @returns {Session | null} */
  saved() {
    try {
      const s = JSON.parse(localStorage.getItem(this.key) || 'null');
      return s && typeof s.secureKey === 'string' ? s : null;
    } catch {
      return null;
    }
  }

  save() {
    try {
      localStorage.setItem(this.key, JSON.stringify({ ...this.s, transcriptPosition: this.lastIndex + 1 }));
    } catch {
      // storage full or disabled: the chat still works, it just will not be restored
    }
  }

  /** @param {TransportName} transport */
  makeBackend(transport) {
    /** @type {Sink} */
    const sink = {
      session: () => this.s,
      position: () => this.lastIndex + 1,
      note: (body) => this.note(body),
      online: (on) => this.setOnline(on),
      fatal: (why) => this.options.on.error(why),
    };
    const { server, service } = this.options;
    this.backend = transport === 'rest' ? new RestChat(server, service, sink) : new CometdChat(server, service, transport, sink);
    this.s.transport = transport;
  }

  /** Starts a new chat. @param {Record<string, any>} request */
  async start(request) {
    this.makeBackend(this.options.transport);
    await /** @type {CometdChat | RestChat} */ (this.backend).start(request);
  }

  /** Resumes a saved chat from its first event (the page's transcript is gone). @param {Session} saved */
  resume(saved) {
    const transport = /** @type {TransportName} */ (saved.transport || this.options.transport);
    this.s = { ...saved };
    this.makeBackend(transport);
    /** @type {CometdChat | RestChat} */ (this.backend).resumeChat();
  }

  /** One GMS answer or notification. @param {any} body */
  note(body) {
    if (!body || typeof body !== 'object') return;
    if (body.secureKey && !this.s.secureKey) {
      this.s = { ...this.s, secureKey: body.secureKey, userId: body.userId, chatId: body.chatId, alias: body.alias };
      this.save();
      window.setTimeout(() => this.flush(), 0); // messages typed before the chat existed
    }
    if (body.statusCode === 2) {
      const code = String(body.errors?.[0]?.code ?? '');
      if (this.s.secureKey && (code === '404' || body.chatEnded)) return this.finish();
      this.options.on.error(code);
    }
    /** @type {GmsEvent[]} */
    const fresh = [];
    const list = (Array.isArray(body.messages) ? body.messages : []).filter((/** @type {any} */ e) => e && typeof e.index === 'number');
    for (const e of list.sort((/** @type {GmsEvent} */ a, /** @type {GmsEvent} */ b) => a.index - b.index)) {
      if (e.index <= this.lastIndex) continue;
      if (e.index > this.lastIndex + 1 && this.gapAt !== this.lastIndex + 1) {
        // Events are missing before this one: read them (once per gap; an index the server
        // never shows this customer is then skipped).
        this.gapAt = this.lastIndex + 1;
        this.backend?.fill(this.gapAt);
        break;
      }
      fresh.push(e);
      this.lastIndex = e.index;
    }
    if (fresh.length) {
      for (const e of fresh) {
        const cid = e.eventAttributes?.['cw-id'];
        if (e.type === 'Message' && e.from?.type === 'Client' && cid) this.outbox = this.outbox.filter((o) => o.cid !== cid);
      }
      if (this.s.secureKey) this.save();
      this.options.on.events(fresh);
      this.options.on.outbox();
    }
    if (body.chatEnded) this.finish();
  }

  /** @param {boolean} on */
  setOnline(on) {
    if (on === this.isOnline) return;
    this.isOnline = on;
    this.options.on.online(on);
    // Messages the server acknowledged ('sent') are in the transcript: their echo comes with
    // the resync and they are never sent twice. The rest go now, in order.
    if (on) this.flush();
  }

  /** Queues a message; it is sent now if online, else when the chat is back. @param {string} text */
  send(text) {
    if (this.outbox.length >= MAX_OUTBOX) return null;
    const cid = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
    this.outbox.push({ cid, text, state: 'queued' });
    this.options.on.outbox();
    this.flush();
    return cid;
  }

  /** Sends queued messages one at a time, in order. */
  async flush() {
    if (this.flushing || !this.backend || this.ended) return;
    this.flushing = true;
    try {
      for (;;) {
        const next = this.outbox.find((o) => o.state === 'queued');
        if (!next || !this.isOnline || !this.s.secureKey) break;
        next.state = 'sending';
        try {
          await this.backend.send(next.text, next.cid);
          if (next.state === 'sending') next.state = 'sent';
        } catch (e) {
          if (e instanceof GmsRefusal) {
            this.outbox = this.outbox.filter((o) => o !== next);
            this.options.on.outbox();
          } else {
            next.state = 'queued';
            break;
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** @param {boolean} on @param {string} preview */
  typing(on, preview) {
    if (this.isOnline && this.backend) this.backend.typing(on, preview).catch(() => {});
  }

  /** @param {number} index */
  read(index) {
    if (this.isOnline && this.backend) this.backend.read(index).catch(() => {});
  }

  /** Ends the chat for everyone (the customer leaves). */
  async end() {
    if (this.backend && !this.ended) await this.backend.end().catch(() => {});
    this.finish();
  }

  /** The chat is over: forget it here and in every tab. */
  finish() {
    if (this.ended) return;
    this.ended = true;
    try {
      localStorage.removeItem(this.key);
    } catch {
      // nothing saved
    }
    this.backend?.close();
    this.options.on.ended();
  }

  /** The browser says the network is gone: hold messages and show it at once. */
  browserOffline() {
    if (this.backend && !this.ended) this.setOnline(false);
  }

  /** Something happened outside the transport (a file was sent): REST polls now. */
  retryPoll() {
    if (this.s.transport === 'rest') this.backend?.fill(this.lastIndex + 1);
  }

  /** The browser says the network is back: try the server at once. */
  browserOnline() {
    if (!this.backend || this.ended) return;
    if (this.backend.isUp()) this.setOnline(true);
    else this.backend.reconnectNow();
  }
}
