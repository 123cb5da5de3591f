//! Ready / not-ready state with the server's not-ready reasons: the list comes from
//! `GET /presence`, the chosen reason goes with `PUT /state`, and the reason shown is the
//! one the server reports (status and `state` frames), "Missed offer" included when the
//! server set the agent not ready itself.

import { api } from './api.js';
import { h, clear } from './dom.js';

/** The server's default list, used only until (or if) `GET /presence` answers. */
export const DEFAULT_REASONS = ['Break', 'Lunch', 'Meeting', 'Training', 'After-chat work'];

/**
 * The configured not-ready reasons.
 * @returns {Promise<string[]>}
 */
export async function loadReasons() {
  try {
    const j = await api('GET', '/presence');
    const list = Array.isArray(j?.not_ready_reasons)
      ? j.not_ready_reasons.filter((/** @type {unknown} */ r) => typeof r === 'string' && r !== '')
      : [];
    return list.length ? list : DEFAULT_REASONS;
  } catch {
    return DEFAULT_REASONS;
  }
}

/**
 * Fills the state menu: "Ready", then "Not ready: <reason>" for each configured reason. A
 * reason the server set that is not configured (e.g. "Missed offer") is shown first and
 * cannot be chosen again.
 * @param {HTMLSelectElement} sel
 * @param {string[]} reasons
 * @param {boolean} ready
 * @param {string | null | undefined} reason the server's
 */
export function paintState(sel, reasons, ready, reason) {
  clear(sel);
  sel.append(h('option', { value: '' }, 'Ready'));
  const extra = !ready && reason && !reasons.includes(reason) ? reason : null;
  if (extra) sel.append(h('option', { value: extra, disabled: true }, `Not ready: ${extra}`));
  for (const r of reasons) sel.append(h('option', { value: r }, `Not ready: ${r}`));
  sel.value = ready ? '' : reason || reasons[0];
  sel.classList.toggle('ready', ready);
}

/**
 * The body of `PUT /state`.
 * @param {boolean} ready
 * @param {string} [reason]
 */
export function stateBody(ready, reason) {
  return ready || !reason ? { ready } : { ready, reason };
}
