//! A chat's composer: the message box (Enter sends, Shift+Enter is a new line), our own
//! typing notifications, the canned-response menu (inserts, never sends) and "Push a URL".

/** @import { ChatEvent, Canned } from './types.js' */
import { h } from './dom.js';
import { cannedGroups, fillCanned } from './canned.js';

/** Our own "typing" ends this long after the last key. */
const TYPING_IDLE_MS = 4000;

/**
 * @typedef {{
 *   post: (rest: string, body?: object, quiet?: boolean) => Promise<any>,
 *   add: (events: ChatEvent[]) => void,
 *   announce: (msg: string) => void,
 * }} ComposerHooks
 */

export class Composer {
  /**
   * @param {string} uid unique prefix for element ids
   * @param {ComposerHooks} hooks
   */
  constructor(uid, hooks) {
    this.hooks = hooks;
    this.typingSent = false;
    this.disabled = false;
    /** @type {string | undefined} */
    this.queue = undefined;
    /** @type {Canned[]} */
    this.responses = [];
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.typingTimer = undefined;
    this.text = h('textarea', { id: `${uid}-text`, rows: 3, maxlength: 16384, 'aria-describedby': `${uid}-preview`,
      oninput: () => this.typed(), onkeydown: (e) => this.key(/** @type {KeyboardEvent} */ (e)) });
    this.canned = h('select', { id: `${uid}-canned`, class: 'canned', onchange: () => this.insertCanned() });
    this.sendBtn = h('button', { type: 'submit', class: 'primary' }, 'Send');
    this.form = h('form', { class: 'composer', onsubmit: (e) => this.send(e) },
      h('label', { for: `${uid}-text` }, 'Message'), this.text,
      h('div', { class: 'row' },
        h('label', { for: `${uid}-canned`, class: 'visually-hidden' }, 'Canned response'), this.canned,
        this.sendBtn));
    this.url = h('input', { type: 'url', id: `${uid}-url`, placeholder: 'https://', autocomplete: 'off' });
    this.pushForm = h('form', { class: 'push row', onsubmit: (e) => this.pushUrl(e) },
      h('label', { for: `${uid}-url` }, 'Push a URL'), this.url, h('button', { type: 'submit' }, 'Push'));
    this.fill();
    void cannedGroups().then(() => this.fill());
  }

  /** Sets the chat's queue (its canned group goes first). @param {string | undefined} queue */
  setQueue(queue) {
    if (queue === this.queue) return;
    this.queue = queue;
    this.fill();
  }

  fill() {
    this.responses = fillCanned(this.canned, this.queue);
    this.canned.disabled = this.disabled || !this.responses.length;
  }

  /** Turns every control off (a chat that is over, or only watched) or on again. @param {boolean} off */
  disable(off) {
    this.disabled = off;
    for (const el of [...this.form.elements, ...this.pushForm.elements]) /** @type {HTMLButtonElement} */ (el).disabled = off;
    if (!off) this.canned.disabled = !this.responses.length;
    if (off) this.stopTyping();
  }

  typed() {
    clearTimeout(this.typingTimer);
    if (!this.typingSent && this.text.value) {
      this.typingSent = true;
      void this.hooks.post('/typing', { typing: true }, true);
    }
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (!this.typingSent) return;
    this.typingSent = false;
    void this.hooks.post('/typing', { typing: false }, true);
  }

  /** @param {KeyboardEvent} e */
  key(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.form.requestSubmit();
    }
  }

  insertCanned() {
    const c = this.responses[Number(this.canned.value)];
    const chosen = this.canned.value !== '';
    this.canned.value = '';
    if (!c || !chosen) return;
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
    if (!text || this.disabled) return;
    this.sendBtn.disabled = true;
    try {
      const res = await this.hooks.post('/messages', { text });
      if (res) {
        this.text.value = '';
        this.typingSent = false;
        clearTimeout(this.typingTimer);
        this.hooks.add(res.events || []);
      }
    } finally {
      this.sendBtn.disabled = this.disabled;
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
    const res = await this.hooks.post('/push-url', { url: raw });
    if (res) {
      this.url.value = '';
      this.hooks.add(res.events || []);
    }
  }
}
