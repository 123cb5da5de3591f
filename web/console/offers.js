//! Incoming offers: one card each with the customer's name and subject (read from the chat
//! view, which the API allows for pending offers), accept / reject, and a countdown to the
//! deadline (the offer's `expires_ms`, wall-clock milliseconds).

/** @import { Offer, ChatView } from './types.js' */
import { api, chatPath } from './api.js';
import { h } from './dom.js';
import { customerName } from './customer.js';

export class OfferList {
  /**
   * @param {HTMLElement} list the element holding the cards
   * @param {(chatId: string) => Promise<void>} accept
   * @param {(chatId: string) => Promise<void>} reject
   * @param {() => void} changed
   */
  constructor(list, accept, reject, changed) {
    this.list = list;
    this.accept = accept;
    this.reject = reject;
    this.changed = changed;
    /** @type {Map<string, { offer: Offer, card: HTMLElement, clock: HTMLElement, label: HTMLElement }>} */
    this.items = new Map();
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.ticker = undefined;
  }

  /** Replaces every offer (from a status). @param {Offer[]} offers */
  reset(offers) {
    const keep = new Set(offers.map((o) => o.chat_id));
    for (const id of [...this.items.keys()]) if (!keep.has(id)) this.remove(id);
    for (const o of offers) this.add(o);
  }

  /** Adds an offer; answers true when it is new. @param {Offer} offer */
  add(offer) {
    const old = this.items.get(offer.chat_id);
    if (old) {
      old.offer = offer;
      return false;
    }
    const id = offer.chat_id;
    const label = h('span', { class: 'offer-who' }, `New chat on ${offer.service}`);
    const clock = h('span', { class: 'countdown' });
    const card = h('li', { class: 'offer', 'data-chat': id },
      label, clock,
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'primary', onclick: () => void this.accept(id) }, 'Accept'),
        h('button', { type: 'button', onclick: () => void this.reject(id) }, 'Reject')));
    this.items.set(id, { offer, card, clock, label });
    this.list.append(card);
    this.tick();
    if (!this.ticker) this.ticker = setInterval(() => this.tick(), 1000);
    void this.describe(id);
    this.changed();
    return true;
  }

  /** @param {string} id */
  async describe(id) {
    try {
      /** @type {ChatView} */
      const view = await api('GET', chatPath(id, '?from=1'));
      const item = this.items.get(id);
      if (!item) return;
      const name = customerName(view, view.events || []) || 'A customer';
      item.label.textContent = `${name}${view.subject ? ` — ${view.subject}` : ''} (${view.service})`;
    } catch {
      // The offer may be gone already; the card says "New chat" meanwhile.
    }
  }

  /** @param {string} id */
  remove(id) {
    const item = this.items.get(id);
    if (!item) return;
    item.card.remove();
    this.items.delete(id);
    if (!this.items.size) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
    this.changed();
  }

  /** The first offer's chat id, for the accept / reject shortcuts. */
  first() {
    return this.items.keys().next().value;
  }

  tick() {
    const now = Date.now();
    for (const { offer, clock } of this.items.values()) {
      const left = Math.max(0, Math.ceil((offer.expires_ms - now) / 1000));
      clock.textContent = `${left} s left`;
      clock.classList.toggle('urgent', left <= 5);
    }
  }
}
