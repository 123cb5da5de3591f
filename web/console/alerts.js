//! Getting the agent's attention: a short tone through Web Audio (unlocked by the "Enable
//! sound" button or the first click or key press, as browsers require) and desktop
//! notifications (permission asked only from a click; one tag per chat, so a chat's newer
//! notification replaces its older one).

/** @type {AudioContext | null} */
let audio = null;
let soundWanted = true;

/** Creates or resumes the audio context; call from a user gesture. */
export function unlockSound() {
  soundWanted = true;
  if (!audio) {
    try {
      audio = new AudioContext();
    } catch {
      return;
    }
  }
  if (audio.state === 'suspended') void audio.resume().catch(() => {});
}

/** Turns the tone off (the context stays, so turning it on again needs no new gesture). */
export function muteSound() {
  soundWanted = false;
}

/** True when a tone would be heard now. */
export function soundOn() {
  return soundWanted && audio !== null && audio.state === 'running';
}

/** Two short beeps, when sound is unlocked and wanted. */
export function beep() {
  if (!soundOn() || !audio) return;
  const t = audio.currentTime;
  for (const [at, freq] of [[0, 880], [0.18, 1175]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t + at);
    gain.gain.exponentialRampToValueAtTime(0.2, t + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.15);
    osc.connect(gain).connect(audio.destination);
    osc.start(t + at);
    osc.stop(t + at + 0.16);
  }
}

/** Whether this browser has notifications at all. */
export function notificationsSupported() {
  return typeof Notification === 'function';
}

/**
 * Asks for notification permission; call only from a click.
 * @returns {Promise<NotificationPermission | 'unsupported'>}
 */
export async function askNotifications() {
  if (!notificationsSupported()) return 'unsupported';
  return Notification.requestPermission();
}

/**
 * Shows a desktop notification for a chat while the page is not in front. `tag` groups a
 * chat's notifications; clicking one focuses the console and calls `onClick`.
 * @param {string} chatId
 * @param {string} title
 * @param {string} body
 * @param {() => void} [onClick]
 */
export function notify(chatId, title, body, onClick) {
  // The cheap checks first: this runs on every customer message.
  if (document.visibilityState === 'visible' && document.hasFocus()) return;
  if (!notificationsSupported() || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(title, { body: body.slice(0, 200), tag: `chinwag-chat-${chatId}` });
    n.addEventListener('click', () => {
      window.focus();
      onClick?.();
      n.close();
    });
  } catch {
    // Constructor unsupported (mobile browsers): the sound and the title still tell.
  }
}
