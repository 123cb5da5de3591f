//! The widget's entry: a small launcher button. It reads its `<script>` tag's data- attributes,
//! defines the one global `window.Chinwag`, and loads the chat itself (panel.js) only when the
//! customer opens it, or at once when a chat of this site is to be restored.
import { storageKey, OPEN_KEY } from './keys.js';

/** @typedef {{server: string, service: string, lang: string, transport: 'websocket' | 'long-polling' | 'rest',
 *   fields: string[], strings: Record<string, string>, maxLength: number}} Config */
/** @typedef {{open: () => void, close: (focusLauncher?: boolean) => void, end: () => Promise<void>}} Panel */
/** @typedef {{config: Config, root: ShadowRoot, launcher: HTMLButtonElement, base: URL,
 *   emit: (kind: string, detail?: any) => void, onClosed: () => void}} Context */

(() => {
  if (/** @type {any} */ (window).Chinwag) return; // loaded twice: keep the first

  const base = new URL('./', import.meta.url);
  const script = [...document.querySelectorAll('script[src]')].find(
    (s) => /** @type {HTMLScriptElement} */ (s).src === import.meta.url,
  ) || document.querySelector('script[data-service][src*="chinwag.js"]');
  const data = /** @type {HTMLElement | null} */ (script)?.dataset || {};
  const host = /** @type {Record<string, any>} */ ((/** @type {any} */ (window).ChinwagOptions) || {});
  const transports = ['websocket', 'long-polling', 'rest'];

  /** @type {Config} */
  const config = {
    server: (data.server || host.server || new URL(import.meta.url).origin).replace(/\/+$/, ''),
    service: data.service || host.service || 'customer-support',
    lang: data.lang || host.lang || document.documentElement.lang || 'en',
    transport: /** @type {Config['transport']} */ (transports.includes(data.transport || '') ? data.transport : transports.includes(host.transport) ? host.transport : 'websocket'),
    fields: (data.fields || host.fields || 'firstName,lastName,email,subject').split(',').map((/** @type {string} */ f) => f.trim()).filter(Boolean),
    strings: { ...(host.strings || {}) },
    maxLength: Number(data.maxLength || host.maxLength) || 4000,
  };

  /** @type {{[kind: string]: Set<(detail: any) => void>}} */
  const listeners = {};
  /** @param {string} kind @param {any} [detail] */
  const emit = (kind, detail) => {
    for (const fn of listeners[kind] || []) {
      try {
        fn(detail);
      } catch (e) {
        console.error(e);
      }
    }
  };

  const hostEl = document.createElement('div');
  hostEl.className = 'chinwag-widget';
  hostEl.hidden = true;
  const colours = { colorPrimary: '--cw-primary', colorOnPrimary: '--cw-on-primary', colorBackground: '--cw-bg', colorText: '--cw-text' };
  for (const [attr, prop] of Object.entries(colours)) {
    const v = data[attr] || host[attr];
    if (v && CSS.supports('color', v)) hostEl.style.setProperty(prop, v);
  }
  const root = hostEl.attachShadow({ mode: 'open' });
  const css = document.createElement('link');
  css.rel = 'stylesheet';
  css.href = new URL('widget.css', base).href;
  css.onload = css.onerror = () => {
    hostEl.hidden = false;
  };
  const launcher = document.createElement('button');
  launcher.type = 'button';
  launcher.className = 'cw-launcher';
  launcher.setAttribute('aria-expanded', 'false');
  launcher.lang = config.lang;
  const label = document.createElement('span');
  label.textContent = config.strings.launcher || 'Chat with us';
  launcher.append(label);
  root.append(css, launcher);

  /** @type {Promise<Panel> | null} */
  let panel = null;
  const load = () =>
    (panel ||= import('./panel.js').then((m) => m.mount({ config, root, launcher, base, emit, onClosed: () => {} })).catch((e) => {
      panel = null;
      throw e;
    }));

  const api = Object.freeze({
    version: 1,
    open: () => load().then((p) => p.open()),
    close: () => panel?.then((p) => p.close(true)),
    end: () => panel?.then((p) => p.end()),
    /** @param {string} kind @param {(detail: any) => void} fn */
    on: (kind, fn) => {
      (listeners[kind] ||= new Set()).add(fn);
    },
    /** @param {string} kind @param {(detail: any) => void} fn */
    off: (kind, fn) => {
      listeners[kind]?.delete(fn);
    },
  });
  Object.defineProperty(window, 'Chinwag', { value: api, enumerable: true, configurable: false, writable: false });

  launcher.addEventListener('click', () => {
    if (launcher.getAttribute('aria-expanded') === 'true') api.close();
    else api.open().catch((e) => console.error('Chinwag: the chat could not load', e));
  });

  const mountWhenReady = () => {
    document.body.append(hostEl);
    let saved = null;
    try {
      saved = localStorage.getItem(storageKey(config.server, config.service));
    } catch {
      // no storage: nothing to restore
    }
    if (saved) {
      load()
        .then((p) => {
          if (sessionStorage.getItem(OPEN_KEY) === '1') p.open();
        })
        .catch((e) => console.error('Chinwag: the chat could not load', e));
    }
    emit('ready');
  };
  if (document.body) mountWhenReady();
  else document.addEventListener('DOMContentLoaded', mountWhenReady, { once: true });
})();
