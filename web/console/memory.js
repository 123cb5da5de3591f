//! What this browser tab remembers across a reload (sessionStorage, so per tab): for each
//! chat the last event index shown without a gap and its unread count, and which chat was
//! in front. After a reload the transcript is fetched again from its first event (the page
//! keeps no copy of it), and the events above the remembered index count as news.

const PREFIX = 'chinwag.console.';

/** @typedef {{ seen: number, unread: number }} ChatMemory */

/**
 * @param {string} chatId
 * @returns {ChatMemory | null}
 */
export function recall(chatId) {
  if (pending.has(chatId)) return pending.get(chatId) ?? null;
  try {
    const raw = sessionStorage.getItem(`${PREFIX}chat.${chatId}`);
    if (!raw) return null;
    const m = JSON.parse(raw);
    if (Number.isSafeInteger(m.seen) && Number.isSafeInteger(m.unread)) return { seen: m.seen, unread: m.unread };
  } catch {
    // Storage off or damaged: start afresh.
  }
  return null;
}

/** Chats whose memory changed since the last write: written together, at most every 250 ms
 * (a busy console sees hundreds of events a second), and at once when the page goes away.
 * @type {Map<string, ChatMemory | null>} */
const pending = new Map();
/** @type {ReturnType<typeof setTimeout> | null} */
let flushTimer = null;

function flush() {
  if (flushTimer !== null) clearTimeout(flushTimer);
  flushTimer = null;
  for (const [chatId, m] of pending) {
    try {
      if (m) sessionStorage.setItem(`${PREFIX}chat.${chatId}`, JSON.stringify(m));
      else sessionStorage.removeItem(`${PREFIX}chat.${chatId}`);
    } catch {
      // Storage off: a reload then shows no unread counts.
    }
  }
  pending.clear();
}

addEventListener('pagehide', flush);

/**
 * @param {string} chatId
 * @param {ChatMemory | null} m null forgets the chat
 */
export function remember(chatId, m) {
  pending.set(chatId, m);
  if (flushTimer === null) flushTimer = setTimeout(flush, 250);
}

/** @param {string | null} chatId */
export function rememberActive(chatId) {
  try {
    if (chatId) sessionStorage.setItem(`${PREFIX}active`, chatId);
    else sessionStorage.removeItem(`${PREFIX}active`);
  } catch {
    // Storage off.
  }
}

export function recallActive() {
  try {
    return sessionStorage.getItem(`${PREFIX}active`);
  } catch {
    return null;
  }
}
