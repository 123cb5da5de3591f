//! GMS Chat API v2 over CometD: the operations published to `/service/chatV2/<service>` and
//! the notifications coming back on it; resumes with `requestNotifications` after every
//! (re-)handshake so no event is missed.
import { Bayeux } from './bayeux.js';
import { GmsRefusal } from './gms-error.js';

/** @typedef {import('./gms.js').Sink} Sink */
/** @typedef {import('./gms.js').Session} Session */

export class CometdChat {
  /**
   * @param {string} server @param {string} service @param {'websocket' | 'long-polling'} transport
   * @param {Sink} sink
   */
  constructor(server, service, transport, sink) {
    this.channel = `/service/chatV2/${service}`;
    this.sink = sink;
    this.bayeux = new Bayeux(`${server}/genesys/cometd`, { transport });
    /** @type {Record<string, any> | null} */
    this.pendingRequest = null;
    this.resumed = false;
    this.everResumed = false;
    this.resuming = false;
    this.bayeux.subscribe(this.channel);
    this.bayeux.on('message', (m) => {
      if (m.channel === this.channel && m.data && typeof m.data === 'object') sink.note(m.data);
    });
    this.bayeux.on('state', (on) => {
      if (!on) {
        this.resumed = false;
        sink.online(false);
      } else if (this.everResumed && !this.resuming) {
        // The same session came back (long-polling retries): the server kept its queue.
        this.resumed = true;
        sink.online(true);
      }
    });
    this.bayeux.on('handshake', () => {
      this.resumed = false; // a new session: nothing is sent before the resume
      this.resume();
    });
    this.bayeux.on('failed', (error) => sink.fatal(String(error || 'refused')));
  }

  /** After each handshake: ask for what was missed (or start the chat asked for). */
  async resume() {
    const s = this.sink.session();
    this.resuming = true;
    try {
      if (s.secureKey) {
        await this.op('requestNotifications', { transcriptPosition: this.sink.position() });
      } else if (this.pendingRequest) {
        const request = this.pendingRequest;
        this.pendingRequest = null;
        await this.op('requestChat', request);
      } else {
        return;
      }
      this.resumed = this.everResumed = true;
      this.sink.online(true);
    } catch {
      // The connect loop goes on and a new handshake resumes again.
    } finally {
      this.resuming = false;
    }
  }

  /** @param {Record<string, any>} request */
  start(request) {
    this.pendingRequest = request;
    this.bayeux.start();
  }

  resumeChat() {
    this.bayeux.start();
  }

  /** @param {string} operation @param {Record<string, any>} [fields] */
  op(operation, fields = {}) {
    const secureKey = this.sink.session().secureKey;
    /** @type {Record<string, any>} */
    const data = { operation, ...fields };
    if (secureKey && operation !== 'requestChat') data.secureKey = secureKey;
    return this.bayeux.publish(this.channel, data).then((ack) => {
      if (!ack.successful) throw new GmsRefusal(ack.error);
      return ack;
    });
  }

  /** @param {string} text @param {string} cid */
  send(text, cid) {
    return this.op('sendMessage', { message: text, messageType: 'text', eventAttributes: { 'cw-id': cid } });
  }

  /** @param {boolean} on @param {string} preview */
  typing(on, preview) {
    return this.op(on ? 'startTyping' : 'stopTyping', { message: preview });
  }

  /** Reads the transcript from `position` (a gap was seen). @param {number} position */
  fill(position) {
    this.op('refresh', { transcriptPosition: position }).catch(() => {});
  }

  /** @param {number} index */
  read(index) {
    return this.op('readReceipt', { transcriptPosition: index });
  }

  async end() {
    try {
      await this.op('disconnect');
    } finally {
      await this.bayeux.disconnect();
    }
  }

  close() {
    return this.bayeux.disconnect();
  }

  isUp() {
    return this.bayeux.connected && this.resumed;
  }

  reconnectNow() {
    if (!this.bayeux.connected && !this.bayeux.stopped) this.bayeux.later(() => this.bayeux.handshake(), 0);
  }
}
