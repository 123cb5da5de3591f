//! The customer panel of a chat: name, e-mail, subject, service and every userData key
//! (the page the chat started from among them when the widget sends it), all as text.

/** @import { ChatView, ChatEvent } from './types.js' */
import { h, clear } from './dom.js';

/**
 * The customer's name: the nickname the customer joined with, else FirstName + LastName.
 * @param {ChatView | null} view
 * @param {Iterable<ChatEvent>} events
 */
export function customerName(view, events) {
  for (const e of events) {
    if (e.from?.party_type === 'Client' && e.from.nickname) return e.from.nickname;
  }
  const ud = view?.user_data || {};
  const full = [ud.FirstName, ud.LastName].filter(Boolean).join(' ');
  return full || ud.nickname || '';
}

/**
 * Fills `dl` with the chat's customer details.
 * @param {HTMLDListElement} dl
 * @param {ChatView} view
 * @param {string} name
 */
export function renderCustomer(dl, view, name) {
  clear(dl);
  /** @param {string} k @param {string | null | undefined} v */
  const row = (k, v) => dl.append(h('dt', {}, k), h('dd', {}, v ? String(v) : '—'));
  row('Name', name);
  row('E-mail', view.email);
  row('Subject', view.subject);
  row('Service', view.service);
  const ud = view.user_data || {};
  const keys = Object.keys(ud).sort();
  if (keys.length) dl.append(h('dt', { class: 'section' }, 'Attached data'), h('dd', { class: 'section' }, `${keys.length} ${keys.length === 1 ? 'key' : 'keys'}`));
  for (const k of keys) row(k, ud[k]);
}
