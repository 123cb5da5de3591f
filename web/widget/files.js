//! Files in the chat through the GMS file API: upload (`…/{chatId}/file`, or `chat-ntf`
//! `fileUpload` with the CometD key) and download (`…/file/{id}/download`, or `fileDownload`),
//! saved by the browser from a blob under the server's safe name.
import { GmsRefusal } from './gms-error.js';

/** @typedef {import('./gms.js').Session} Session */

const UPLOAD_WAIT_MS = 120000;
const DOWNLOAD_WAIT_MS = 120000;

/**
 * The URL and form fields of a file operation for this chat's transport.
 * @param {string} server @param {string} service @param {Session} s
 * @param {'upload' | 'download'} what @param {string} [fileId]
 */
function target(server, service, s, what, fileId) {
  const form = new FormData();
  if (s.transport === 'rest') {
    form.set('userId', s.userId || '');
    form.set('secureKey', s.secureKey || '');
    form.set('alias', s.alias || '');
    const chat = `${server}/genesys/2/chat/${encodeURIComponent(service)}/${encodeURIComponent(s.chatId || '')}`;
    const url = what === 'upload' ? `${chat}/file` : `${chat}/file/${encodeURIComponent(fileId || '')}/download`;
    return { url, form };
  }
  form.set('operation', what === 'upload' ? 'fileUpload' : 'fileDownload');
  form.set('secureKey', s.secureKey || '');
  if (fileId) form.set('fileId', fileId);
  return { url: `${server}/genesys/2/chat-ntf`, form };
}

/**
 * Sends `file`; the transcript then shows it (`FileUploaded`). Throws GmsRefusal with the
 * server's code (201 too many, 202 too big, 203 type not allowed, 400 e.g. before an agent).
 * @param {string} server @param {string} service @param {Session} s @param {File} file
 */
export async function upload(server, service, s, file) {
  const { url, form } = target(server, service, s, 'upload');
  form.set('file', file, file.name);
  const body = await post(url, form, UPLOAD_WAIT_MS).then((r) => r.json());
  if (body.statusCode !== 0) throw new GmsRefusal(body.errors?.[0]?.code);
  return body;
}

/**
 * Fetches a file of the chat and hands it to the browser as a download named `name`.
 * @param {string} server @param {string} service @param {Session} s @param {string} fileId @param {string} name
 */
export async function download(server, service, s, fileId, name) {
  const { url, form } = target(server, service, s, 'download', fileId);
  const r = await post(url, form, DOWNLOAD_WAIT_MS);
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    throw new GmsRefusal(body.errors?.[0]?.code ?? r.status);
  }
  const href = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(href), 60000);
}

/** @param {string} url @param {FormData} form @param {number} waitMs */
async function post(url, form, waitMs) {
  const abort = new AbortController();
  const timer = window.setTimeout(() => abort.abort(), waitMs);
  try {
    return await fetch(url, { method: 'POST', body: form, signal: abort.signal, credentials: 'omit' });
  } finally {
    window.clearTimeout(timer);
  }
}
