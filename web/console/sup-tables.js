//! The supervisor view's tables, drawn from `GET /supervisor`: queues (waiting, offered,
//! longest wait), agents (state, reason, load / capacity) and live chats (customer,
//! subject, queue, state, for how long, agents, monitored) with "Monitor" and "Take over"
//! per chat. Every cell is text; each row is headed by a `th scope="row"`.

/** @import { Overview, QueueStat, Status, LiveChat } from './types.js' */
import { h, clear } from './dom.js';

/**
 * A duration as people read it: "45 s", "3 min 05 s", "2 h 04 min".
 * @param {number} ms
 */
export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/**
 * How long ago `since` was (wall-clock ms).
 * @param {number} since
 */
function age(since) {
  return Number.isFinite(since) ? duration(Date.now() - since) : '—';
}

/** @param {Status} a */
function stateOf(a) {
  if (!a.logged_in) return 'Logged out';
  return a.ready ? 'Ready' : 'Not ready';
}

const CHAT_STATES = /** @type {Record<string, string>} */ ({ waiting: 'Waiting', offered: 'Offered', active: 'Active' });

/**
 * @param {HTMLTableSectionElement} body
 * @param {number} cols
 * @param {string} text
 */
function emptyRow(body, cols, text) {
  body.append(h('tr', {}, h('td', { colspan: cols, class: 'hint' }, text)));
}

/**
 * @param {HTMLTableSectionElement} body
 * @param {QueueStat[]} queues
 */
export function fillQueues(body, queues) {
  clear(body);
  for (const q of queues) {
    body.append(h('tr', {},
      h('th', { scope: 'row' }, q.queue),
      h('td', { class: 'num' }, String(q.waiting)),
      h('td', { class: 'num' }, String(q.offered)),
      h('td', { class: 'num' }, q.longest_wait_ms === null || q.longest_wait_ms === undefined ? '—' : duration(q.longest_wait_ms))));
  }
  if (!queues.length) emptyRow(body, 4, 'No queues.');
}

/**
 * @param {HTMLTableSectionElement} body
 * @param {Status[]} agents
 */
export function fillAgents(body, agents) {
  clear(body);
  for (const a of agents) {
    const load = a.load ?? (a.chats?.length || 0) + (a.offers?.length || 0);
    body.append(h('tr', { class: a.logged_in ? (a.ready ? 'is-ready' : 'is-away') : 'is-out' },
      h('th', { scope: 'row' }, a.name && a.name !== a.id ? `${a.name} (${a.id})` : a.id),
      h('td', {}, stateOf(a)),
      h('td', {}, a.logged_in && !a.ready ? a.reason || '—' : '—'),
      h('td', { class: 'num' }, `${load} / ${a.capacity}`)));
  }
  if (!agents.length) emptyRow(body, 4, 'No agents.');
}

/**
 * @typedef {{ monitor: (c: LiveChat) => void, takeOver: (c: LiveChat) => void }} ChatActions
 */

/**
 * @param {HTMLTableSectionElement} body
 * @param {LiveChat[]} chats
 * @param {ChatActions} act
 */
export function fillChats(body, chats, act) {
  // A refresh must not take the focus away from a button the supervisor is on.
  const focused = document.activeElement instanceof HTMLElement && body.contains(document.activeElement)
    ? document.activeElement.dataset.key
    : undefined;
  clear(body);
  for (const c of chats) {
    const customer = c.customer || 'Customer';
    const agents = (c.agents || []).map((a) => a.name || a.id).join(', ');
    body.append(h('tr', { 'data-chat': c.chat_id },
      h('th', { scope: 'row' }, customer),
      h('td', {}, c.subject || '—'),
      h('td', {}, c.queue),
      h('td', {}, CHAT_STATES[c.state] || c.state),
      h('td', { class: 'num' }, age(c.since_ms)),
      h('td', {}, agents || '—'),
      h('td', {}, c.monitored ? 'Yes' : 'No'),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', 'data-key': `${c.chat_id}:monitor`, 'aria-label': `Monitor the chat with ${customer}`, onclick: () => act.monitor(c) }, 'Monitor'),
        h('button', { type: 'button', 'data-key': `${c.chat_id}:take`, 'aria-label': `Take over the chat with ${customer}`, onclick: () => act.takeOver(c) }, 'Take over'))));
  }
  if (!chats.length) emptyRow(body, 8, 'No live chats.');
  if (focused) {
    const again = [...body.querySelectorAll('button')].find((b) => b.dataset.key === focused);
    again?.focus();
  }
}

/**
 * Draws a whole overview into the three table bodies.
 * @param {{ queues: HTMLTableSectionElement, agents: HTMLTableSectionElement, chats: HTMLTableSectionElement }} bodies
 * @param {Overview} o
 * @param {ChatActions} act
 */
export function fillOverview(bodies, o, act) {
  fillQueues(bodies.queues, o.queues || []);
  fillAgents(bodies.agents, o.agents || []);
  fillChats(bodies.chats, o.chats || [], act);
}
