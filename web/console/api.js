//! The agent API over fetch: JSON in and out, the session cookie (same-origin credentials),
//! the CSRF header on every unsafe method, and the API's error envelope as an `ApiError`.

export const BASE = '/agent/v1';

/** An error answered by the API (or a network failure: status 0, code `network`). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Milliseconds a request may take before it is given up. */
const TIMEOUT_MS = 20000;

/**
 * Calls the agent API. `body`: a plain object (sent as JSON), `FormData` (multipart), or
 * nothing. Answers the parsed JSON, or null for an empty answer.
 * @param {string} method
 * @param {string} path under /agent/v1
 * @param {object | FormData} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['x-chinwag-csrf'] = '1';
  /** @type {BodyInit | undefined} */
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers,
      body: payload,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
  }
  const text = await res.text().catch(() => '');
  /** @type {any} */
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = json && typeof json === 'object' && json.error ? json.error : {};
    throw new ApiError(res.status, String(err.code || 'http_' + res.status), String(err.message || res.statusText));
  }
  return json;
}

/**
 * The URL of a chat's file, for a plain download link (a GET: the cookie suffices).
 * @param {string} chatId
 * @param {string} fileId
 */
export function fileUrl(chatId, fileId) {
  return `${BASE}/chats/${encodeURIComponent(chatId)}/files/${encodeURIComponent(fileId)}`;
}

/**
 * Path of a chat resource.
 * @param {string} chatId
 * @param {string} [rest]
 */
export function chatPath(chatId, rest = '') {
  return `/chats/${encodeURIComponent(chatId)}${rest}`;
}
