//! The agent event stream: one WebSocket to /agent/v1/events, reopened after every drop
//! with a growing, capped, jittered delay (and at once when the browser comes back online).
//! It reports frames and whether it is up; what to refetch after a drop is the caller's.

/** @import { Frame } from './types.js' */

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;

export class EventStream {
  /**
   * @param {(f: Frame) => void} onFrame every parsed frame
   * @param {(up: boolean) => void} onState true once open, false after a drop
   * @param {() => Promise<boolean>} [beforeOpen] runs before each (re)open; false: stop
   */
  constructor(onFrame, onState, beforeOpen) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.beforeOpen = beforeOpen || (async () => true);
    /** @type {WebSocket | null} */
    this.ws = null;
    this.stopped = true;
    this.delay = MIN_DELAY_MS;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.online = () => {
      if (!this.stopped && !this.ws) this.reopenSoon(0);
    };
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.online);
    void this.open();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.online);
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'signed out');
  }

  /** @param {number} ms */
  reopenSoon(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.open(), ms);
  }

  async open() {
    if (this.stopped || this.ws) return;
    let go;
    try {
      go = await this.beforeOpen();
    } catch {
      go = true; // the check failed (offline?): try the socket anyway, and back off
    }
    if (!go || this.stopped || this.ws) return;
    const url = new URL('/agent/v1/events', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.delay = MIN_DELAY_MS;
    });
    ws.addEventListener('message', (e) => {
      if (this.ws !== ws || typeof e.data !== 'string') return;
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (frame && frame.type === 'status') this.onState(true);
      this.onFrame(frame);
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.onState(false);
      const wait = this.delay * (0.75 + Math.random() / 2);
      this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
      this.reopenSoon(wait);
    });
  }

  /** Closes the current socket as if the network had dropped it (it reopens). */
  bounce() {
    this.ws?.close(4000, 'resync');
  }
}
