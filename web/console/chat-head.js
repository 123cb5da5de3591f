//! A chat's header: its title, its state line, the "a supervisor is monitoring" indicator
//! (an eye and the words), and its buttons: Transfer…, Leave chat, End chat for an agent;
//! Take over and Stop monitoring for a monitoring supervisor; Close tab once it is over.

import { h } from './dom.js';
import { eyeIcon } from './watch.js';

/**
 * @typedef {{
 *   transfer: () => void, leave: () => void, end: () => void, close: () => void,
 *   takeOver: () => void, stopMonitoring: () => void,
 * }} HeadActions
 */

export class ChatHead {
  /**
   * @param {string} uid unique prefix for element ids
   * @param {HeadActions} act
   */
  constructor(uid, act) {
    /** What became of the chat, once over (shown on its tab). */
    this.outcome = '';
    this.title = h('h2', { id: `${uid}-title` }, 'Chat');
    this.state = h('p', { class: 'chat-state' });
    this.watched = h('p', { class: 'watched', hidden: true }, eyeIcon(), h('span', {}, 'A supervisor is monitoring'));
    this.transferBtn = h('button', { type: 'button', 'aria-haspopup': 'dialog', onclick: act.transfer }, 'Transfer…');
    this.leaveBtn = h('button', { type: 'button', onclick: act.leave }, 'Leave chat');
    this.endBtn = h('button', { type: 'button', class: 'danger', onclick: act.end }, 'End chat');
    this.takeOverBtn = h('button', { type: 'button', class: 'primary', onclick: act.takeOver }, 'Take over');
    this.stopBtn = h('button', { type: 'button', onclick: act.stopMonitoring }, 'Stop monitoring');
    this.closeBtn = h('button', { type: 'button', hidden: true, onclick: act.close }, 'Close tab');
    this.el = h('header', { class: 'chat-head' }, this.title, this.state, this.watched,
      h('div', { class: 'actions' }, this.transferBtn, this.leaveBtn, this.endBtn, this.takeOverBtn, this.stopBtn, this.closeBtn));
  }

  /**
   * Shows the buttons of a mode.
   * @param {'agent' | 'monitor'} mode
   */
  show(mode) {
    const agent = mode === 'agent';
    this.transferBtn.hidden = !agent;
    this.leaveBtn.hidden = !agent;
    this.endBtn.hidden = !agent;
    this.takeOverBtn.hidden = agent;
    this.stopBtn.hidden = agent;
    this.closeBtn.hidden = true;
  }

  /** @param {string} text */
  setState(text) {
    this.state.textContent = text;
  }

  /** Shows or hides the monitoring indicator. @param {boolean} on */
  setWatched(on) {
    this.watched.hidden = !on;
  }

  /**
   * Over: only "Close tab" is left.
   * @param {string} why
   * @param {string} outcome
   */
  close(why, outcome) {
    this.outcome = outcome;
    this.state.textContent = why;
    for (const b of [this.transferBtn, this.leaveBtn, this.endBtn, this.takeOverBtn, this.stopBtn]) b.hidden = true;
    this.watched.hidden = true;
    this.closeBtn.hidden = false;
  }
}
