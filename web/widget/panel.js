//! The chat panel, loaded on demand by the launcher: registration form, status while queued,
//! transcript, composer with typing and read receipts, end chat, offline banner, and the
//! keyboard rules (opening focuses the input, Esc closes and returns focus, no trap).
import { h } from './dom.js';
import { en, fill } from './strings.js';
import { Chat } from './gms.js';
import { Transcript } from './transcript.js';
import { OPEN_KEY } from './keys.js';
import { upload, download } from './files.js';

/** @typedef {import('./chinwag.js').Context} Context */
/** @typedef {import('./chinwag.js').Panel} Panel */

const TYPING_IDLE_MS = 3000;
/** @type {Record<string, {name: string, type: string, autocomplete: string, required: boolean}>} */
const FIELDS = {
  firstName: { name: 'firstName', type: 'text', autocomplete: 'given-name', required: true },
  lastName: { name: 'lastName', type: 'text', autocomplete: 'family-name', required: true },
  nickname: { name: 'nickname', type: 'text', autocomplete: 'nickname', required: true },
  email: { name: 'emailAddress', type: 'email', autocomplete: 'email', required: false },
  subject: { name: 'subject', type: 'text', autocomplete: 'off', required: false },
};

/** @param {Context} ctx @returns {Panel} */
export function mount(ctx) {
  const { config, root, launcher, emit } = ctx;
  const t = /** @type {typeof en} */ ({ ...en, ...config.strings });
  let seq = 0;
  const id = (/** @type {string} */ name) => `cw-${name}-${++seq}`;

  // Structure
  const titleId = id('title');
  const title = h('h2', { class: 'cw-title', id: titleId }, t.title);
  const agentLine = h('p', { class: 'cw-agent' });
  const endBtn = h('button', { type: 'button', class: 'cw-end', hidden: true }, t.end);
  const closeBtn = h('button', { type: 'button', class: 'cw-close', 'aria-label': t.minimize }, h('span', { 'aria-hidden': 'true' }, '×'));
  const header = h('header', { class: 'cw-header' }, h('div', { class: 'cw-heading' }, title, agentLine), endBtn, closeBtn);
  const banner = h('p', { class: 'cw-offline', role: 'alert', hidden: true });
  const status = h('p', { class: 'cw-status', role: 'status' });
  const transcript = new Transcript(t);

  // Registration form
  const form = h('form', { class: 'cw-form', novalidate: true }, h('p', { class: 'cw-intro' }, t.intro));
  for (const key of config.fields) {
    const f = FIELDS[key];
    if (!f) continue;
    const inputId = id(key);
    const input = h('input', { id: inputId, name: f.name, type: f.type, autocomplete: f.autocomplete, required: f.required, maxlength: '200' });
    const labelText = /** @type {Record<string, string>} */ (t)[key] || key;
    form.append(h('div', { class: 'cw-field' }, h('label', { for: inputId }, labelText), input));
  }
  const formError = h('p', { class: 'cw-error', role: 'alert', hidden: true });
  form.append(formError, h('button', { type: 'submit', class: 'cw-primary' }, t.start));

  // Conversation
  const inputId = id('input');
  const input = h('textarea', { id: inputId, class: 'cw-input', rows: '2', maxlength: String(config.maxLength) });
  const fileInput = h('input', { type: 'file', hidden: true });
  const attach = h('button', { type: 'button', class: 'cw-attach', 'aria-label': t.attach, title: t.attach }, h('span', { 'aria-hidden': 'true' }, '+'));
  const composer = h(
    'form',
    { class: 'cw-composer' },
    h('label', { for: inputId, class: 'cw-sr' }, t.input),
    fileInput,
    attach,
    input,
    h('button', { type: 'submit', class: 'cw-primary' }, t.send),
  );
  const ended = h('div', { class: 'cw-ended', hidden: true }, h('p', {}, t.ended), h('button', { type: 'button', class: 'cw-primary' }, t.newChat));
  const chatError = h('p', { class: 'cw-error', role: 'alert', hidden: true });
  const conversation = h('div', { class: 'cw-conversation', hidden: true }, status, chatError, transcript.log, transcript.pending, transcript.typing, composer, ended);

  const panel = h('div', { class: 'cw-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': titleId, lang: config.lang, hidden: true }, header, banner, form, conversation);
  root.append(panel);
  launcher.setAttribute('aria-controls', 'cw-panel');
  panel.id = 'cw-panel';

  /** @type {Chat | null} */
  let chat = null;
  let typing = false;
  /** @type {number | undefined} */
  let typingTimer;

  const isOpen = () => !panel.hidden;

  const refreshHeader = () => {
    agentLine.textContent = transcript.agent || '';
    if (!chat || chat.ended) status.textContent = '';
    else if (!transcript.agent) status.textContent = chat.lastIndex ? t.queued : t.connecting;
    else status.textContent = '';
    status.hidden = !status.textContent;
  };

  const markRead = () => {
    if (chat && isOpen() && document.visibilityState === 'visible' && transcript.lastAgentMessage > 0) {
      chat.read(transcript.lastAgentMessage);
    }
  };

  const stopTyping = () => {
    window.clearTimeout(typingTimer);
    if (typing && chat) chat.typing(false, '');
    typing = false;
  };

  const newChat = () => {
    const c = new Chat({
      server: config.server,
      service: config.service,
      transport: config.transport,
      on: {
        events: (list) => {
          const hadAgent = transcript.agent;
          transcript.add(list);
          refreshHeader();
          if (!hadAgent && transcript.agent) emit('agentJoined', { name: transcript.agent });
          for (const e of list) if (e.type === 'Message' && e.from?.type === 'Agent') emit('message', { text: e.text, from: e.from.nickname });
          markRead();
        },
        online: (on) => {
          banner.hidden = on;
          banner.textContent = on ? '' : t.offline;
          emit(on ? 'online' : 'offline');
        },
        ended: () => {
          stopTyping();
          transcript.showTyping(null);
          composer.hidden = true;
          endBtn.hidden = true;
          ended.hidden = false;
          banner.hidden = true;
          refreshHeader();
          emit('ended');
        },
        error: (code) => {
          // Refused before the chat started: back to the form; later: an alert in the chat.
          const starting = !c.s.secureKey;
          if (starting) showView(false);
          const where = starting ? formError : chatError;
          where.textContent = fill(t.error, { code });
          where.hidden = false;
          if (starting) focusFirst();
        },
        outbox: () => transcript.showPending(c.outbox),
      },
    });
    return c;
  };

  /** @param {boolean} conversing */
  const showView = (conversing) => {
    form.hidden = conversing;
    conversation.hidden = !conversing;
    composer.hidden = false;
    ended.hidden = true;
    endBtn.hidden = !conversing;
  };

  const focusFirst = () => {
    const target = !form.hidden ? form.querySelector('input') : !composer.hidden ? input : ended.querySelector('button');
    target?.focus();
  };

  // Restore a chat saved by this site (reload, or another tab).
  chat = newChat();
  const saved = chat.saved();
  if (saved) {
    showView(true);
    chat.resume(saved);
  } else {
    showView(false);
  }
  refreshHeader();

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    formError.hidden = true;
    /** @type {Record<string, any>} */
    const request = { userData: { 'chinwag-page': location.href.slice(0, 500) } };
    for (const el of form.querySelectorAll('input')) {
      if (el.required && !el.value.trim()) {
        el.setAttribute('aria-invalid', 'true');
        formError.textContent = t.required;
        formError.hidden = false;
        el.focus();
        return;
      }
      el.removeAttribute('aria-invalid');
      if (el.value.trim()) request[el.name] = el.value.trim();
    }
    if (!request.nickname && !request.firstName) request.nickname = t.you;
    if (!chat || chat.ended) chat = newChat();
    transcript.clear();
    showView(true);
    refreshHeader();
    input.focus();
    const started = chat;
    started.start(request).catch((e) => {
      // A refusal was shown by the error handler; a network failure is shown here.
      if (started.s.secureKey || !formError.hidden) return;
      showView(false);
      formError.textContent = fill(t.error, { code: e instanceof Error ? e.message : String(e) });
      formError.hidden = false;
      focusFirst();
    });
  });

  composer.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text || !chat || chat.ended) return;
    stopTyping();
    chatError.hidden = true;
    if (chat.send(text)) input.value = '';
  });

  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      composer.requestSubmit();
    }
  });

  input.addEventListener('input', () => {
    if (!chat || chat.ended) return;
    if (!input.value) return stopTyping();
    if (!typing) {
      typing = true;
      chat.typing(true, input.value.slice(0, 200));
    }
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(stopTyping, TYPING_IDLE_MS);
  });

  attach.addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (!file || !chat || chat.ended || !chat.s.secureKey) return;
    chatError.hidden = true;
    status.textContent = fill(t.uploading, { name: file.name });
    status.hidden = false;
    upload(config.server, config.service, chat.s, file)
      .catch((e) => {
        chatError.textContent = fill(t.fileError, { code: String(e?.code ?? '') });
        chatError.hidden = false;
      })
      .finally(() => {
        refreshHeader();
        chat?.retryPoll();
      });
  });
  transcript.onDownload = (fileId, name) => {
    if (!chat) return;
    download(config.server, config.service, chat.s, fileId, name).catch((e) => {
      chatError.textContent = fill(t.fileError, { code: String(e?.code ?? '') });
      chatError.hidden = false;
    });
  };

  endBtn.addEventListener('click', () => {
    if (!chat || chat.ended) return;
    chat.end().then(() => focusFirst());
  });

  /** @type {HTMLButtonElement} */ (ended.querySelector('button')).addEventListener('click', () => {
    transcript.clear();
    formError.hidden = true;
    chat = newChat();
    showView(false);
    refreshHeader();
    focusFirst();
  });

  closeBtn.addEventListener('click', () => api.close(true));
  panel.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.stopPropagation();
      api.close(true);
    }
  });

  document.addEventListener('visibilitychange', markRead);
  window.addEventListener('online', () => chat?.browserOnline());
  window.addEventListener('offline', () => chat?.browserOffline());

  /** @type {Panel} */
  const api = {
    open() {
      panel.hidden = false;
      launcher.setAttribute('aria-expanded', 'true');
      sessionStorage.setItem(OPEN_KEY, '1');
      focusFirst();
      markRead();
      emit('open');
    },
    close(focusLauncher = false) {
      if (panel.hidden) return;
      panel.hidden = true;
      launcher.setAttribute('aria-expanded', 'false');
      sessionStorage.removeItem(OPEN_KEY);
      if (focusLauncher) launcher.focus();
      emit('close');
    },
    async end() {
      if (chat && !chat.ended) await chat.end();
    },
  };
  return api;
}
