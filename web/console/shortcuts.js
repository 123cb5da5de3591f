//! Keyboard shortcuts. Every one uses a modifier (Alt, or Ctrl for the list), so typing in
//! a text field never triggers one; Ctrl+/ opens the list. Keys are matched by physical
//! code, so they work whatever the keyboard layout makes of Alt+letter.

import { h, clear } from './dom.js';

/**
 * @typedef {'help'|'accept'|'reject'|'ready'|'next'|'prev'|'message'|'canned'|'url'|'end'|'leave'|'close'|'file'|'transfer'} Action
 * @typedef {{ keys: string, code: string, alt?: boolean, ctrl?: boolean, shift?: boolean, action: Action, what: string }} Shortcut
 */

/** @type {ReadonlyArray<Shortcut>} */
export const SHORTCUTS = [
  { keys: 'Ctrl+/', code: 'Slash', ctrl: true, action: 'help', what: 'Show these shortcuts' },
  { keys: 'Alt+A', code: 'KeyA', alt: true, action: 'accept', what: 'Accept the oldest offer' },
  { keys: 'Alt+Shift+X', code: 'KeyX', alt: true, shift: true, action: 'reject', what: 'Reject the oldest offer' },
  { keys: 'Alt+R', code: 'KeyR', alt: true, action: 'ready', what: 'Switch between ready and not ready' },
  { keys: 'Alt+J', code: 'KeyJ', alt: true, action: 'next', what: 'Next chat' },
  { keys: 'Alt+K', code: 'KeyK', alt: true, action: 'prev', what: 'Previous chat' },
  { keys: 'Alt+M', code: 'KeyM', alt: true, action: 'message', what: 'Go to the message box' },
  { keys: 'Alt+C', code: 'KeyC', alt: true, action: 'canned', what: 'Go to the canned responses' },
  { keys: 'Alt+U', code: 'KeyU', alt: true, action: 'url', what: 'Go to "Push a URL"' },
  { keys: 'Alt+I', code: 'KeyI', alt: true, action: 'file', what: 'Go to the file upload' },
  { keys: 'Alt+Shift+E', code: 'KeyE', alt: true, shift: true, action: 'end', what: 'End the chat' },
  { keys: 'Alt+T', code: 'KeyT', alt: true, action: 'transfer', what: 'Transfer the chat' },
  { keys: 'Alt+Shift+L', code: 'KeyL', alt: true, shift: true, action: 'leave', what: 'Leave the chat' },
  { keys: 'Alt+W', code: 'KeyW', alt: true, action: 'close', what: "Close an ended chat's tab" },
];

/**
 * The shortcut a key press means, if any.
 * @param {KeyboardEvent} e
 * @returns {Action | null}
 */
export function match(e) {
  for (const s of SHORTCUTS) {
    if (e.code !== s.code && !(s.code === 'Slash' && e.key === '/')) continue;
    if (!!s.alt !== e.altKey || !!s.ctrl !== (e.ctrlKey || e.metaKey) || !!s.shift !== e.shiftKey) continue;
    return s.action;
  }
  return null;
}

/**
 * Fills the shortcuts table's body.
 * @param {HTMLTableSectionElement} tbody
 */
export function fillTable(tbody) {
  clear(tbody);
  for (const s of SHORTCUTS) tbody.append(h('tr', {}, h('td', {}, h('kbd', {}, s.keys)), h('td', {}, s.what)));
}

/**
 * Listens for shortcuts on the document.
 * @param {(a: Action) => void} run
 */
export function listen(run) {
  document.addEventListener('keydown', (e) => {
    const action = match(e);
    if (!action) return;
    e.preventDefault();
    run(action);
  });
}
