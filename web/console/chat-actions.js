//! What a chat's buttons do beyond the composer: leave or end it, and, for a supervisor,
//! take a monitored chat over or stop monitoring it; and what a ParticipantLeft of our own
//! that we did not ask for means: a supervisor took the chat over, or this agent left it
//! from another window.

/** @import { ChatEvent } from './types.js' */
/** @import { ChatLog } from './chat-log.js' */
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
 * Why this agent's ParticipantLeft `left` came: 'taken over' when it ends a take-over's
 * burst (the server commits, at consecutive indexes and one time, the supervisor's
 * ParticipantJoined as an Agent, then every other agent's ParticipantLeft); 'left' when the
 * event before it is anything else (the agent left from another window or client);
 * 'unknown' when an index before it has not been seen.
 * @param {ChatLog} log
 * @param {ChatEvent} left
 * @param {(participantId: number | undefined) => boolean} mine whether a participant is this agent
 * @returns {'taken over' | 'left' | 'unknown'}
 */
export function whyLeft(log, left, mine) {
  for (let i = left.index - 1; i >= 1; i--) {
    const prev = log.events.get(i);
    if (!prev) return i < log.contiguous ? 'left' : 'unknown'; // dropped as too old, or a hole
    const sameBurst = prev.from?.party_type === 'Agent' && (prev.utc_time_ms ?? 0) === (left.utc_time_ms ?? 0);
    if (!sameBurst || mine(prev.from?.participant_id)) return 'left';
    if (prev.kind === 'ParticipantJoined') return 'taken over';
    if (prev.kind !== 'ParticipantLeft') return 'left';
  }
  return 'left';
}

/**
 * A live ParticipantLeft: when it is this agent's and nothing here asked for it, a
 * supervisor took the chat over or the agent left it elsewhere; either way the chat becomes
 * read only.
 * @param {ChatPanel} chat
 * @param {ChatEvent} e
 */
export function leftLive(chat, e) {
  if (chat.closed || chat.leaving || chat.mode !== 'agent' || e.from?.party_type !== 'Agent') return;
  const myId = chat.hooks.myId();
  const me = e.from.participant_id;
  if (!isMyAgent(chat.view, me, myId)) return;
  const mine = (/** @type {number | undefined} */ id) => id === me || isMyAgent(chat.view, id, myId);
  switch (whyLeft(chat.log, e, mine)) {
    case 'taken over':
      chat.markClosed('Taken over by a supervisor. This chat is now read only.', 'taken over');
      chat.hooks.announce(`A supervisor took over the chat with ${chat.name()}.`);
      break;
    case 'left':
      chat.markClosed('You left this chat (from another window). It is now read only.', 'left');
      chat.hooks.announce(`You left the chat with ${chat.name()} from another window.`);
      break;
    default:
      chat.markClosed('You are no longer in this chat. It is now read only.', 'closed');
      chat.hooks.announce(`You are no longer in the chat with ${chat.name()}.`);
  }
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
