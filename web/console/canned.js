//! Canned responses per queue, from `GET /canned` (the queues the agent serves; a
//! supervisor's: every queue). A chat's menu lists its own queue's group first. Choosing one
//! inserts its text into the composer; it is never sent without the agent pressing Send.

/** @import { CannedGroup, Canned } from './types.js' */
import { api } from './api.js';
import { h, clear } from './dom.js';

/** @type {CannedGroup[]} */
let groups = [];
/** @type {Promise<CannedGroup[]> | null} */
let loading = null;

/**
 * Loads the responses (again, after a sign-in); answers the groups. Never throws: without an
 * answer the menus are empty.
 * @returns {Promise<CannedGroup[]>}
 */
export function loadCanned() {
  loading = api('GET', '/canned').then(
    (j) => {
      groups = Array.isArray(j?.queues) ? j.queues.filter(valid) : [];
      return groups;
    },
    () => {
      groups = [];
      return groups;
    },
  );
  return loading;
}

/** @param {any} g */
function valid(g) {
  return g && typeof g.queue === 'string' && Array.isArray(g.responses);
}

/** The groups once loaded (loading them when no load ran yet). */
export function cannedGroups() {
  return loading || loadCanned();
}

/** The names of the queues the canned answer listed (the queues the agent serves). */
export function cannedQueues() {
  return groups.map((g) => g.queue);
}

/**
 * Fills a canned menu, the chat's queue first; answers the responses by option value.
 * @param {HTMLSelectElement} sel
 * @param {string | undefined} queue the chat's queue
 * @returns {Canned[]}
 */
export function fillCanned(sel, queue) {
  clear(sel);
  /** @type {Canned[]} */
  const byValue = [];
  const ordered = [...groups].sort((a, b) => Number(b.queue === queue) - Number(a.queue === queue));
  const any = ordered.some((g) => g.responses.length);
  sel.append(h('option', { value: '' }, any ? 'Insert a canned response…' : 'No canned responses'));
  for (const g of ordered) {
    if (!g.responses.length) continue;
    const group = h('optgroup', { label: g.queue === queue ? `${g.queue} (this chat's queue)` : g.queue });
    for (const c of g.responses) {
      if (typeof c?.text !== 'string' || typeof c?.label !== 'string') continue;
      group.append(h('option', { value: String(byValue.length) }, c.label));
      byValue.push({ label: c.label, text: c.text });
    }
    sel.append(group);
  }
  sel.disabled = !byValue.length;
  return byValue;
}
