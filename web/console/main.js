//! The console's entry point: picks the screen (sign-in or work), and on the work screen
//! joins the pieces: presence (ready / not ready with a reason), offers, the event stream
//! and its reconnecting banner, the chats, sound, notifications and shortcuts.

/** @import { Status, Frame } from './types.js' */
import { api } from './api.js';
import { byId, h, clear } from './dom.js';
import { EventStream } from './stream.js';
import { Workspace } from './workspace.js';
import { OfferList } from './offers.js';
import { REASONS, MISSED, storedReason, storeReason } from './presence.js';
import { unlockSound, muteSound, soundOn, beep, notify, askNotifications, notificationsSupported } from './alerts.js';
import { signInDemo, signOut, currentStatus, failureText, wireSignIn, showSignIn } from './session.js';
import { listen, fillTable } from './shortcuts.js';

const announcer = byId('announcer', HTMLDivElement);
const banner = byId('banner', HTMLDivElement);
const stateSel = byId('state', HTMLSelectElement);
const startBtn = byId('start-work', HTMLButtonElement);
const stopBtn = byId('stop-work', HTMLButtonElement);
const soundBtn = byId('sound', HTMLButtonElement);
const notifyBtn = byId('notify', HTMLButtonElement);
const dialog = byId('shortcuts', HTMLDialogElement);

/** @param {string} msg */
function announce(msg) {
  announcer.textContent = '';
  setTimeout(() => (announcer.textContent = msg), 50);
}

const workspace = new Workspace(byId('tabs', HTMLDivElement), byId('panels', HTMLDivElement), byId('no-chats', HTMLParagraphElement), announce);
const offers = new OfferList(byId('offers', HTMLUListElement), accept, reject, () => {
  byId('no-offers', HTMLParagraphElement).hidden = offers.items.size > 0;
  workspace.offerCount = offers.items.size;
  workspace.paintTitle();
});

/** @type {Status | null} */
let me = null;
/** The reason shown while not ready (client-side only: the API has no reason field). */
let reason = REASONS[0];
/** Set while our own PUT /state is in flight, so its `state` frame is not taken for a missed offer. */
let settingState = false;
let wasDown = false;

const stream = new EventStream(onFrame, onStreamState, async () => {
  const status = await currentStatus();
  if (status) return true;
  leaveWork('Your session has ended. Sign in again.');
  return false;
});

/** @param {boolean} up */
function onStreamState(up) {
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
        if (me.ready && !f.ready && !settingState) reason = MISSED;
        me.ready = f.ready;
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
        chat.markClosed('The chat has ended.');
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
  clear(stateSel);
  stateSel.append(h('option', { value: '' }, 'Ready'));
  const reasons = reason === MISSED ? [MISSED, ...REASONS] : REASONS;
  for (const r of reasons) stateSel.append(h('option', { value: r }, `Not ready: ${r}`));
  stateSel.value = me.ready ? '' : reason;
  stateSel.classList.toggle('ready', me.ready);
}

/** @param {boolean} ready @param {string} [why] */
async function setReady(ready, why) {
  if (!me) return;
  if (!ready) {
    reason = why || storedReason(me.id);
    storeReason(me.id, reason);
  }
  settingState = true;
  try {
    applyStatus(await api('PUT', '/state', { ready }));
    announce(ready ? 'You are ready.' : `You are not ready: ${reason}.`);
  } catch (e) {
    announce(`Could not change the state: ${e instanceof Error ? e.message : e}`);
    paintPresence();
  } finally {
    settingState = false;
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
  reason = storedReason(status.id);
  applyStatus(status, true);
  workspace.resume(status.chats); // start loading now; the stream's status resumes again
  stream.start();
  startBtn.hidden ? stateSel.focus() : startBtn.focus();
}

/** @param {string} [message] */
function leaveWork(message) {
  stream.stop();
  me = null;
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
  soundBtn.addEventListener('click', () => {
    if (soundOn()) muteSound();
    else unlockSound();
    setTimeout(paintSound, 100);
  });
  /** @param {Event} e */
  const firstGesture = (e) => {
    document.removeEventListener('pointerdown', firstGesture);
    document.removeEventListener('keydown', firstGesture);
    if (e.target === soundBtn) return; // its own click decides
    unlockSound();
    setTimeout(paintSound, 100);
  };
  document.addEventListener('pointerdown', firstGesture);
  document.addEventListener('keydown', firstGesture);
  notifyBtn.hidden = !notificationsSupported();
  paintNotify();
  notifyBtn.addEventListener('click', async () => {
    const answer = await askNotifications();
    paintNotify();
    announce(answer === 'granted' ? 'Desktop notifications are on.' : 'Desktop notifications are off (the browser refused).');
  });
  byId('help', HTMLButtonElement).addEventListener('click', () => dialog.showModal());
  fillTable(byId('shortcuts-body', HTMLTableSectionElement));
  listen(runShortcut);
}

function paintSound() {
  const on = soundOn();
  soundBtn.setAttribute('aria-pressed', String(on));
  soundBtn.textContent = on ? 'Sound on' : 'Enable sound';
}

function paintNotify() {
  if (!notificationsSupported()) return;
  const granted = Notification.permission === 'granted';
  notifyBtn.textContent = granted ? 'Desktop notifications on' : 'Enable desktop notifications';
  notifyBtn.disabled = granted;
}

/** @param {import('./shortcuts.js').Action} action */
function runShortcut(action) {
  if (action === 'help') {
    if (dialog.open) dialog.close();
    else dialog.showModal();
    return;
  }
  if (!me) return;
  const chat = workspace.current();
  const first = offers.first();
  switch (action) {
    case 'accept':
      if (first) void accept(first);
      break;
    case 'reject':
      if (first) void reject(first);
      break;
    case 'ready':
      if (me.logged_in) void setReady(!me.ready);
      break;
    case 'next':
    case 'prev':
      workspace.cycle(action === 'next' ? 1 : -1);
      break;
    case 'message':
      chat?.text.focus();
      break;
    case 'canned':
      chat?.canned.focus();
      break;
    case 'url':
      chat?.url.focus();
      break;
    case 'file':
      chat?.files.input.focus();
      break;
    case 'end':
      if (chat && !chat.closed) void chat.finish('end');
      break;
    case 'leave':
      if (chat && !chat.closed) void chat.finish('leave');
      break;
    case 'close':
      if (chat?.closed) workspace.close(chat.id);
      break;
  }
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
