//! A tiny element builder: tag, attributes and children, text always as text nodes.

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | boolean | undefined>} [attrs] `class`, ARIA and other attributes; `true` sets an empty one
 * @param {...(Node | string)} children strings become text nodes
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'style') throw new Error('no style attributes (CSP)');
    el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...children);
  return el;
}
