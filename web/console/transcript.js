//! A chat's transcript on screen: one element per shown event, in index order whatever
//! order events arrive in. Messages are text (links only for http(s) URLs); typing events
//! are not shown here (the typing preview shows them).

/** @import { ChatEvent } from './types.js' */
import { h } from './dom.js';
import { linkify, safeLink } from './linkify.js';

/** One formatter for every time stamp (making one per line is slow). */
const CLOCK = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** Event kinds that never appear as transcript lines. */
const HIDDEN = new Set(['TypingStarted', 'TypingStopped']);

/**
 * Who sent an event, as shown.
 * @param {ChatEvent} e
 */
export function who(e) {
  const name = e.from?.nickname || '';
  switch (e.from?.party_type) {
    case 'Client':
      return name || 'Customer';
    case 'Agent':
    case 'Supervisor':
      return name || 'Agent';
    default:
      return name || 'System';
  }
}

/**
 * The CSS class of an event's sender.
 * @param {ChatEvent} e
 */
function partyClass(e) {
  switch (e.from?.party_type) {
    case 'Client':
      return 'from-customer';
    case 'Agent':
    case 'Supervisor':
      return 'from-agent';
    default:
      return 'from-system';
  }
}

/**
 * The line's content for an event kind.
 * @param {ChatEvent} e
 * @returns {(Node | string)[]}
 */
function body(e) {
  const text = e.text || '';
  const ud = e.user_data || {};
  switch (e.kind) {
    case 'Message':
      return [linkify(text)];
    case 'ParticipantJoined':
      return [`${who(e)} joined the chat`];
    case 'ParticipantLeft':
      return [`${who(e)} left the chat`];
    case 'PushUrl': {
      const link = safeLink(text);
      return ['sent a link: ', link || text];
    }
    case 'FileUploaded':
      return [`sent a file: ${ud['file-name'] || 'unnamed'}`];
    case 'FileDeleted':
      return [`deleted a file: ${ud['file-name'] || 'unnamed'}`];
    case 'NicknameUpdated':
      return [`is now called ${text || who(e)}`];
    default:
      return text ? [linkify(text)] : [e.kind];
  }
}

/**
 * The element for one event, or null for events not shown.
 * @param {ChatEvent} e
 * @returns {HTMLElement | null}
 */
export function renderEvent(e) {
  if (HIDDEN.has(e.kind)) return null;
  const inline = e.kind === 'Message' || e.kind === 'PushUrl' || e.kind.startsWith('File') || e.kind === 'NicknameUpdated';
  const time = e.utc_time_ms ? new Date(e.utc_time_ms) : null;
  const stamp = time
    ? h('time', { datetime: time.toISOString(), class: 'stamp' }, CLOCK.format(time))
    : null;
  const kindClass = e.kind === 'Message' ? 'msg' : 'note';
  return h(
    'div',
    { class: `line ${kindClass} ${partyClass(e)}`, 'data-index': e.index, 'data-kind': e.kind },
    stamp,
    inline ? h('span', { class: 'who' }, who(e)) : null,
    h('span', { class: 'text' }, ...body(e)),
  );
}

/**
 * Puts a rendered event into the log in index order (appending in the usual case).
 * @param {HTMLElement} log
 * @param {HTMLElement} el with data-index
 * @param {number} index
 */
export function place(log, el, index) {
  const last = /** @type {HTMLElement | null} */ (log.lastElementChild);
  if (!last || Number(last.dataset.index) < index) {
    log.append(el);
    return;
  }
  for (const child of log.children) {
    if (Number(/** @type {HTMLElement} */ (child).dataset.index) > index) {
      child.before(el);
      return;
    }
  }
  log.append(el);
}
