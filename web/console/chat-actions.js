//! What a chat's buttons do beyond the composer: leave or end it, and, for a supervisor,
//! take a monitored chat over or stop monitoring it; and what a ParticipantLeft of our own
//! that we did not ask for means (a supervisor took the chat over).

/** @import { ChatEvent } from './types.js' */
/** @import { ChatPanel } from './chat-panel.js' */
import { isMyAgent } from './watch.js';

/**
 * @param {ChatPanel} chat
 * @param {'end' | 'leave'} how
 */
export async function finish(chat, how) {
  chat.leaving = true;
  const res = await chat.post(how === 'end' ? '/end' : '/leave');
  if (res === null) {
    chat.leaving = false;
    return;
  }
  if (res.events) chat.add(res.events, false);
  chat.markClosed(how === 'end' ? 'You ended the chat.' : 'You left the chat.', how === 'end' ? 'ended' : 'left');
  chat.hooks.announce(how === 'end' ? `Chat with ${chat.name()} ended.` : `You left the chat with ${chat.name()}.`);
}

/**
 * A live ParticipantLeft: when it is this agent's and nothing here asked for it, a
 * supervisor took the chat over; the chat becomes read only.
 * @param {ChatPanel} chat
 * @param {ChatEvent} e
 */
export function leftLive(chat, e) {
  if (chat.closed || chat.leaving || chat.mode !== 'agent' || e.from?.party_type !== 'Agent') return;
  if (!isMyAgent(chat.view, e.from.participant_id, chat.hooks.myId())) return;
  chat.markClosed('Taken over by a supervisor. This chat is now read only.', 'taken over');
  chat.hooks.announce(`A supervisor took over the chat with ${chat.name()}.`);
}

/**
 * A supervisor takes a monitored chat over: it joins as the chat's agent.
 * @param {ChatPanel} chat
 */
export async function takeOver(chat) {
  const res = await chat.post('/take-over');
  if (res === null) return;
  chat.setMode('agent');
  if (Array.isArray(res.events)) {
    chat.view = res;
    chat.add(res.events, false);
    chat.showView();
  }
  void chat.sync().catch(() => {});
  chat.hooks.announce(`You took over the chat with ${chat.name()}.`);
  chat.text.focus();
}

/**
 * A supervisor stops monitoring (it leaves silently).
 * @param {ChatPanel} chat
 */
export async function stopMonitoring(chat) {
  const res = await chat.post('/leave');
  if (res === null) return;
  chat.markClosed('You stopped monitoring this chat.', 'not monitoring');
  chat.hooks.announce(`You stopped monitoring the chat with ${chat.name()}.`);
  chat.head.closeBtn.focus();
}
