//! Untrusted text to DOM: text nodes, and links only for http(s) URLs found in it, each
//! built from `new URL()` with its label set as text (never markup).

import { h } from './dom.js';

const URLISH = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}]+$/;

/**
 * Returns a fragment holding `text` with its http(s) URLs as links.
 * @param {string} text
 * @returns {DocumentFragment}
 */
export function linkify(text) {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const m of text.matchAll(URLISH)) {
    const start = m.index ?? 0;
    let raw = m[0];
    const trail = TRAILING.exec(raw);
    if (trail) raw = raw.slice(0, raw.length - trail[0].length);
    const link = safeLink(raw);
    if (!link) continue;
    if (start > at) frag.append(document.createTextNode(text.slice(at, start)));
    frag.append(link);
    at = start + raw.length;
  }
  if (at < text.length) frag.append(document.createTextNode(text.slice(at)));
  return frag;
}

/**
 * A link to `raw` when it parses as an http(s) URL; else null.
 * @param {string} raw
 * @returns {HTMLAnchorElement | null}
 */
export function safeLink(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const a = h('a', { target: '_blank', rel: 'noopener noreferrer nofollow' }, raw);
  a.href = url.href;
  return a;
}
