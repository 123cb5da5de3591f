//! The console's entry point: picks the screen (sign-in or work), and on the work screen
//! joins the pieces: presence (ready / not ready with the server's reasons), offers, the
//! event stream and its reconnecting banner, the chats, transfer, the supervisor view,
//! sound, notifications and shortcuts.

/** @import { Status, Frame } from './types.js' */
import { api } from './api.js';
import { byId } from './dom.js';
import { EventStream } from './stream.js';
import { Workspace } from './workspace.js';
import { ChatPanel } from './chat-panel.js';
import { OfferList } from './offers.js';
import { DEFAULT_REASONS, loadReasons, paintState, stateBody } from './presence.js';
import { loadCanned, cannedGroups, cannedQueues } from './canned.js';
import { TransferDialog } from './transfer.js';
import { SupervisorView } from './supervisor.js';
import { beep, notify } from './alerts.js';
import { wireTools } from './tools.js';
import { signInDemo, signOut, currentStatus, failureText, wireSignIn, showSignIn } from './session.js';
import { listen, fillTable } from './shortcuts.js';
import { shortcutRunner } from './keys.js';

const announcer = byId('announcer', HTMLDivElement);
const banner = byId('banner', HTMLDivElement);
const stateSel = byId('state', HTMLSelectElement);
const startBtn = byId('start-work', HTMLButtonElement);
const stopBtn = byId('stop-work', HTMLButtonElement);
const dialog = byId('shortcuts', HTMLDialogElement);

/** @param {string} msg */
function announce(msg) {
  announcer.textContent = '';
  setTimeout(() => (announcer.textContent = msg), 50);
}

const transfer = new TransferDialog(transferTargets, announce);
const workspace = new Workspace(byId('tabs', HTMLDivElement), byId('panels', HTMLDivElement), byId('no-chats', HTMLParagraphElement), announce, {
  myId: () => me?.id,
  transfer: (chat) => void transfer.open(chat),
});
const supervisor = new SupervisorView({
  announce,
  status: (s) => applyStatus(s),
  monitor: (id) => {
    workspace.open(id, 'monitor');
    workspace.activate(id, true);
    announce('Monitoring the chat (read only).');
  },
  takeOver: (id) => {
    workspace.open(id, 'agent');
    workspace.activate(id, true);
    announce('You took the chat over.');
  },
});
const offers = new OfferList(byId('offers', HTMLUListElement), accept, reject, () => {
  byId('no-offers', HTMLParagraphElement).hidden = offers.items.size > 0;
  workspace.offerCount = offers.items.size;
  workspace.paintTitle();
});

/** @type {Status | null} */
let me = null;
/** The configured not-ready reasons (`GET /presence`). */
let reasons = DEFAULT_REASONS;
/** The reason last chosen here, for Alt+R. */
let lastReason = '';
let wasDown = false;

/** Where a chat may be transferred: the queues the agent serves (a supervisor: every queue
 * of the overview) and, for a supervisor, the agents. */
async function transferTargets() {
  await cannedGroups();
  const mine = cannedQueues();
  if (!supervisor.allowed) return { queues: mine, agents: [] };
  if (!supervisor.last) await supervisor.refresh();
  const t = supervisor.targets();
  return { queues: [...new Set([...t.queues, ...mine])], agents: t.agents.filter((a) => a.id !== me?.id) };
}

const stream = new EventStream(onFrame, onStreamState, async () => {
  const status = await currentStatus();
  if (status) return true;
  leaveWork('Your session has ended. Sign in again.');
  return false;
});

/** @param {boolean} up */
function onStreamState(up) {
  ChatPanel.streamUp = up;
  if (up) {
    banner.textContent = '';
    banner.classList.remove('shown');
    if (wasDown) announce('Reconnected.');
    wasDown = false;
  } else {
    wasDown = true;
    banner.textContent = 'Connection lost. Reconnecting… Messages sent meanwhile will appear once it is back.';
    banner.classList.add('shown');
  }
}

/** @param {Frame} f */
function onFrame(f) {
  switch (f.type) {
    case 'status':
      applyStatus(f.status, true);
      workspace.resume(f.status.chats);
      break;
    case 'offer':
      if (offers.add(f)) {
        beep();
        notify(f.chat_id, 'New chat offer', `A customer on ${f.service} is waiting.`, () => offers.items.get(f.chat_id)?.card.querySelector('button')?.focus());
        announce(`New chat offer on ${f.service}.`);
      }
      break;
    case 'offer_withdrawn':
      if (offers.items.has(f.chat_id)) announce(f.reason === 'timeout' ? 'An offer timed out.' : 'An offer was withdrawn.');
      offers.remove(f.chat_id);
      break;
    case 'state':
      if (me) {
        const was = me.reason;
        me.ready = f.ready;
        me.reason = f.ready ? null : 'reason' in f ? f.reason : me.reason;
        if (!f.ready && me.reason && me.reason !== was && !reasons.includes(me.reason)) announce(`You are now not ready: ${me.reason}.`);
        paintPresence();
      }
      break;
    case 'event':
      workspace.event(f.chat_id, f.event);
      break;
    case 'typing_preview':
      workspace.chats.get(f.chat_id)?.setPreview(f.text || null);
      break;
    case 'chat_ended': {
      const chat = workspace.chats.get(f.chat_id);
      if (chat && !chat.closed) {
        chat.markClosed('The chat has ended.', 'ended');
        announce(`The chat with ${chat.name()} has ended.`);
      }
      offers.remove(f.chat_id);
      break;
    }
    case 'resync':
      stream.bounce();
      break;
    default:
      break;
  }
}

/**
 * Takes a status. Only the stream's own status frame (ordered with the offer frames) and the
 * first status replace the offers: an answer to a request may predate an offer frame.
 * @param {Status} s
 * @param {boolean} [withOffers]
 */
function applyStatus(s, withOffers = false) {
  me = s;
  byId('agent-name', HTMLParagraphElement).textContent = `${s.name || s.id}`;
  if (withOffers) offers.reset(s.offers || []);
  paintPresence();
}

function paintPresence() {
  if (!me) return;
  startBtn.hidden = me.logged_in;
  stateSel.hidden = !me.logged_in;
  stopBtn.hidden = !me.logged_in;
  paintState(stateSel, reasons, me.ready, me.reason);
}

/** @param {boolean} ready @param {string} [why] a configured reason */
async function setReady(ready, why) {
  if (!me) return;
  const reason = ready ? undefined : why || (lastReason && reasons.includes(lastReason) ? lastReason : reasons[0]);
  if (reason) lastReason = reason;
  try {
    const s = await api('PUT', '/state', stateBody(ready, reason));
    applyStatus(s);
    announce(ready ? 'You are ready.' : `You are not ready: ${s.reason || reason}.`);
  } catch (e) {
    announce(`Could not change the state: ${e instanceof Error ? e.message : e}`);
    paintPresence();
  }
}

/** @param {string} id */
async function accept(id) {
  try {
    await api('POST', `/offers/${encodeURIComponent(id)}/accept`);
    offers.remove(id);
    workspace.dismissed.delete(id);
    workspace.open(id);
    workspace.activate(id, true);
    announce('Chat accepted.');
  } catch (e) {
    offers.remove(id);
    announce(`Could not accept: ${e instanceof Error ? e.message : e}`);
  }
}

/** @param {string} id */
async function reject(id) {
  await api('POST', `/offers/${encodeURIComponent(id)}/reject`).catch(() => {});
  offers.remove(id);
  announce('Offer rejected.');
}

/** @param {Status} status */
function enterWork(status) {
  byId('signin', HTMLElement).hidden = true;
  byId('work', HTMLDivElement).hidden = false;
  applyStatus(status, true);
  void loadCanned();
  void loadReasons().then((r) => {
    reasons = r;
    paintPresence();
  });
  void supervisor.probe();
  workspace.resume(status.chats); // start loading now; the stream's status resumes again
  stream.start();
  startBtn.hidden ? stateSel.focus() : startBtn.focus();
}

/** @param {string} [message] */
function leaveWork(message) {
  stream.stop();
  me = null;
  supervisor.reset();
  if (transfer.dialog.open) transfer.dialog.close();
  workspace.clearAll();
  offers.reset([]);
  onStreamState(true);
  showSignIn(message);
}

function wireWork() {
  startBtn.addEventListener('click', async () => {
    try {
      applyStatus(await api('POST', '/login'));
      announce('Logged in; you are not ready.');
      stateSel.focus();
    } catch (e) {
      announce(`Could not log in: ${e instanceof Error ? e.message : e}`);
    }
  });
  stopBtn.addEventListener('click', async () => {
    await api('POST', '/logout').catch(() => {});
    const s = await currentStatus().catch(() => null);
    if (s) applyStatus(s);
    announce('Work stopped; no more offers.');
  });
  stateSel.addEventListener('change', () => void setReady(stateSel.value === '', stateSel.value || undefined));
  byId('signout', HTMLButtonElement).addEventListener('click', async () => {
    stream.stop();
    await signOut();
    leaveWork('You have signed out.');
  });
  wireTools(announce);
  byId('help', HTMLButtonElement).addEventListener('click', () => dialog.showModal());
  fillTable(byId('shortcuts-body', HTMLTableSectionElement));
  listen(shortcutRunner({
    help: dialog,
    me: () => me,
    workspace,
    firstOffer: () => offers.first(),
    accept,
    reject,
    setReady,
    transfer: (chat) => void transfer.open(chat),
  }));
}

async function start() {
  wireSignIn(enterWork);
  wireWork();
  if (location.hash === '#demo') {
    try {
      const status = await signInDemo();
      history.replaceState(null, '', location.pathname + location.search); // a reload keeps the session, not the shortcut
      enterWork(status);
      if (!status.logged_in) applyStatus(await api('POST', '/login'));
      if (me && !me.ready) await setReady(true);
      return;
    } catch (e) {
      showSignIn(failureText(e));
      return;
    }
  }
  try {
    const status = await currentStatus();
    if (status) enterWork(status);
    else showSignIn();
  } catch (e) {
    showSignIn(failureText(e));
  }
}

void start();
