//! A chat's tab: the customer's name, a note once the chat is over for this agent (ended,
//! transferred, taken over, …) or while it is only monitored, and the unread count, all
//! in its accessible name too.

import { h } from './dom.js';

export class ChatTab {
  /**
   * @param {string} uid unique prefix for element ids
   * @param {string} chatId
   * @param {() => void} onClick
   */
  constructor(uid, chatId, onClick) {
    this.name = h('span', { class: 'tab-name' }, 'Chat');
    this.note = h('span', { class: 'tab-note' });
    this.badge = h('span', { class: 'badge', hidden: true });
    this.el = h('button', {
      type: 'button', role: 'tab', id: `${uid}-tab`, 'aria-controls': `${uid}-panel`,
      'aria-selected': 'false', tabindex: '-1', class: 'tab', 'data-chat': chatId,
      onclick: onClick,
    }, this.name, this.note, this.badge);
  }

  /**
   * @param {string} name
   * @param {string} note '' for none
   * @param {number} unread
   * @param {boolean} over
   */
  paint(name, note, unread, over) {
    this.name.textContent = name;
    this.note.textContent = note ? `(${note})` : '';
    this.badge.hidden = unread === 0;
    this.badge.textContent = unread ? String(unread) : '';
    const label = note ? `${name} (${note})` : name;
    this.el.setAttribute('aria-label', unread ? `${label}, ${unread} unread` : label);
    this.el.classList.toggle('ended', over);
  }

  /** @param {boolean} on */
  select(on) {
    this.el.setAttribute('aria-selected', String(on));
    this.el.tabIndex = on ? 0 : -1;
  }
}
