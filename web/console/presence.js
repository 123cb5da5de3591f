//! Ready / not-ready state and the not-ready reasons. The agent API's state has no reason
//! field, so the reason is kept in this browser (localStorage, per agent) and only shown
//! here; a not-ready the server sets itself (a missed offer) gets the reason "Missed offer".

/** Reasons offered for not ready (the first entry of the select is "Ready"). */
export const REASONS = ['Break', 'Lunch', 'Meeting', 'Training', 'After-chat work'];
export const MISSED = 'Missed offer';

/** @param {string} agentId */
const key = (agentId) => `chinwag.console.reason.${agentId}`;

/**
 * The stored reason, or the first one.
 * @param {string} agentId
 */
export function storedReason(agentId) {
  try {
    return localStorage.getItem(key(agentId)) || REASONS[0];
  } catch {
    return REASONS[0];
  }
}

/**
 * @param {string} agentId
 * @param {string} reason
 */
export function storeReason(agentId, reason) {
  try {
    localStorage.setItem(key(agentId), reason);
  } catch {
    // Storage off: the reason lives only as long as the page.
  }
}
