//! The header's tool buttons: "Enable sound" (or the first click or key press anywhere,
//! which browsers require before a tone) and "Enable desktop notifications".

import { byId } from './dom.js';
import { unlockSound, muteSound, soundOn, askNotifications, notificationsSupported } from './alerts.js';

/** @param {(msg: string) => void} announce */
export function wireTools(announce) {
  const soundBtn = byId('sound', HTMLButtonElement);
  const notifyBtn = byId('notify', HTMLButtonElement);
  const paintSound = () => {
    const on = soundOn();
    soundBtn.setAttribute('aria-pressed', String(on));
    soundBtn.textContent = on ? 'Sound on' : 'Enable sound';
  };
  const paintNotify = () => {
    if (!notificationsSupported()) return;
    const granted = Notification.permission === 'granted';
    notifyBtn.textContent = granted ? 'Desktop notifications on' : 'Enable desktop notifications';
    notifyBtn.disabled = granted;
  };
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
}
