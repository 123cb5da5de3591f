//! Console sign-in and sign-out: the session cookie comes from `POST /agent/v1/session`
//! (id + password, or `/session/demo` for the demo agent) and goes with
//! `DELETE /agent/v1/session`. The cookie is HttpOnly: this code never sees it.

/** @import { Status } from './types.js' */
import { api, ApiError } from './api.js';
import { byId } from './dom.js';

/**
 * Signs in with id and password; answers the agent status.
 * @param {string} id
 * @param {string} password
 * @returns {Promise<Status>}
 */
export function signIn(id, password) {
  return api('POST', '/session', { id, password });
}

/** @returns {Promise<Status>} */
export function signInDemo() {
  return api('POST', '/session/demo');
}

/** Ends work (offers return to the queue) and the session; never throws. */
export async function signOut() {
  await api('POST', '/logout').catch(() => {});
  await api('DELETE', '/session').catch(() => {});
}

/**
 * The status when the browser still has a session; null when it has none.
 * @returns {Promise<Status | null>}
 */
export async function currentStatus() {
  try {
    return await api('GET', '/me');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

/**
 * A sign-in failure as the agent should read it.
 * @param {unknown} e
 */
export function failureText(e) {
  if (!(e instanceof ApiError)) return 'Sign-in failed.';
  switch (e.code) {
    case 'bad_credentials':
      return 'Wrong agent id or password.';
    case 'locked_out':
      return 'Too many failed attempts. Wait a while, then try again.';
    case 'not_found':
      return 'The demo agent is not available on this server.';
    case 'network':
      return 'The server cannot be reached. Check the connection and try again.';
    default:
      return `Sign-in failed: ${e.message}`;
  }
}

/**
 * Wires the sign-in form; `done` gets the status after a successful sign-in.
 * @param {(s: Status) => void} done
 */
export function wireSignIn(done) {
  const form = byId('signin-form', HTMLFormElement);
  const id = byId('signin-id', HTMLInputElement);
  const password = byId('signin-password', HTMLInputElement);
  const error = byId('signin-error', HTMLParagraphElement);
  const submit = byId('signin-submit', HTMLButtonElement);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    if (!id.value.trim() || !password.value) {
      error.textContent = 'Enter your agent id and password.';
      (id.value.trim() ? password : id).focus();
      return;
    }
    submit.disabled = true;
    try {
      const status = await signIn(id.value.trim(), password.value);
      password.value = '';
      done(status);
    } catch (err) {
      error.textContent = failureText(err);
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
}

/**
 * Shows the sign-in screen, with a message when given.
 * @param {string} [message]
 */
export function showSignIn(message = '') {
  byId('work', HTMLDivElement).hidden = true;
  byId('signin', HTMLElement).hidden = false;
  byId('signin-error', HTMLParagraphElement).textContent = message;
  byId('signin-id', HTMLInputElement).focus();
}
