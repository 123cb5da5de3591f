//! Untrusted text to DOM nodes: text stays text (textContent); only http(s) URLs become links,
//! built here with their href from `new URL()` and `rel="noopener noreferrer nofollow"`.

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}]+$/;

/**
 * Appends `text` to `parent` as text nodes and safe links.
 * @param {HTMLElement} parent @param {string} text
 */
export function appendText(parent, text) {
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    let raw = m[0];
    const trail = raw.match(TRAILING);
    if (trail) raw = raw.slice(0, -trail[0].length);
    const start = /** @type {number} */ (m.index);
    const link = safeLink(raw);
    if (!link) continue;
    if (start > at) parent.append(document.createTextNode(text.slice(at, start)));
    parent.append(link);
    at = start + raw.length;
  }
  if (at < text.length) parent.append(document.createTextNode(text.slice(at)));
}

/**
 * A link element for `raw` when it is an http(s) URL, else null.
 * @param {string} raw @returns {HTMLAnchorElement | null}
 */
export function safeLink(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const a = document.createElement('a');
  a.href = url.href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer nofollow';
  a.textContent = raw;
  return a;
}
