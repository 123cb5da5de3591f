//! DOM helpers for the console: build elements from tag, properties and children. Text is
//! always a text node; there is no way here to turn a string into markup.

/**
 * @typedef {Record<string, string | number | boolean | undefined | ((e: Event) => void)>} Props
 */

/**
 * Creates an element. Keys starting with `on` add listeners; `class` sets the class list;
 * `aria-*`, `data-*`, `role`, `for` and anything else become attributes (false/undefined:
 * absent). `style` and inline handler attributes are refused (the CSP forbids them anyway).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...(Node | string | null | undefined | false)} kids
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === false) continue;
    if (k === 'style') throw new Error('no style attributes');
    if (typeof v === 'function') {
      if (!k.startsWith('on')) throw new Error(`function for ${k}`);
      el.addEventListener(k.slice(2), v);
    } else if (k === 'class') {
      el.className = String(v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, ...kids);
  return el;
}

/**
 * Appends children, strings as text nodes.
 * @param {Element} el
 * @param {...(Node | string | null | undefined | false)} kids
 */
export function append(el, ...kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    el.append(typeof k === 'string' ? document.createTextNode(k) : k);
  }
}

/**
 * Looks an element up by id, failing loudly when the page lacks it.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} missing`);
  return el;
}

/**
 * Removes every child.
 * @param {Element} el
 */
export function clear(el) {
  el.replaceChildren();
}
