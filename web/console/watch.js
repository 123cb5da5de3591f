//! Who is in a chat, read from the chat view's participants: whether a supervisor is
//! monitoring it (the eye indicator), whether this console's agent is in it as an agent or
//! only watching it, and whether a participant id is this agent's.

/** @import { ChatView, Participant } from './types.js' */

const SVG = 'http://www.w3.org/2000/svg';

/** @param {Participant} p */
const present = (p) => !p.left_ms;

/**
 * True when a present Supervisor participant other than `myId` is in the chat.
 * @param {ChatView | null} view
 * @param {string | undefined} myId
 */
export function monitoredByOther(view, myId) {
  return (view?.participants || []).some((p) => p.party_type === 'Supervisor' && present(p) && p.agent_id !== myId);
}

/**
 * How this agent is in the chat now: 'agent', 'monitor' (a present Supervisor participant
 * only) or null (not present, or the view does not say).
 * @param {ChatView | null} view
 * @param {string | undefined} myId
 * @returns {'agent' | 'monitor' | null}
 */
export function myPart(view, myId) {
  if (!myId) return null;
  const mine = (view?.participants || []).filter((p) => p.agent_id === myId && present(p));
  if (mine.some((p) => p.party_type === 'Agent')) return 'agent';
  if (mine.some((p) => p.party_type === 'Supervisor')) return 'monitor';
  return null;
}

/**
 * True when participant `id` of the chat is this agent as an Agent.
 * @param {ChatView | null} view
 * @param {number | undefined} id
 * @param {string | undefined} myId
 */
export function isMyAgent(view, id, myId) {
  if (id === undefined || !myId) return false;
  return (view?.participants || []).some((p) => p.id === id && p.agent_id === myId && p.party_type === 'Agent');
}

/** The eye icon (decorative: the text beside it says what it means). */
export function eyeIcon() {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '20');
  svg.setAttribute('height', '20');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.classList.add('eye');
  const outline = document.createElementNS(SVG, 'path');
  outline.setAttribute('d', 'M1 12s4-7 11-7 11 7 11 7-4 7-11 7S1 12 1 12z');
  const pupil = document.createElementNS(SVG, 'circle');
  pupil.setAttribute('cx', '12');
  pupil.setAttribute('cy', '12');
  pupil.setAttribute('r', '3.5');
  svg.append(outline, pupil);
  return svg;
}
