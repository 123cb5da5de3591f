//! Part `ready`: how long the widget's launcher takes to be shown, in Chromium on loopback,
//! against a ceiling loaded the same way in the same run.
//!
//! Both pages are the demo page's HTML (fetched from the server) served by a host site of
//! this process on its own origin, so the widget is embedded cross-origin as on a customer's
//! site. The widget page loads `<server>/widget/chinwag.js`; the ceiling page loads, from a
//! third origin, one module of the same bytes (the widget's pre-click JavaScript inside a
//! comment, gzip when accepted) that only appends a plain button in the same kind of host
//! element. The launcher counts as ready when its host element `.chinwag-widget` is in the
//! page and no longer `hidden` (the widget unhides it once its stylesheet has loaded; its
//! click handler is attached before): a MutationObserver set before any page script records
//! `performance.now()` then. Every load is a fresh browser context (a first visit: empty
//! cache), widget and ceiling loads alternating.
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { say, summary } from './kit.mjs';

/** Set before any page script: records when the launcher's host element is shown. */
const DETECT = () => {
  /** @type {any} */ (window).__cwReady = null;
  const mo = new MutationObserver(() => {
    if (document.querySelector('.chinwag-widget:not([hidden])')) {
      /** @type {any} */ (window).__cwReady = performance.now();
      mo.disconnect();
    }
  });
  mo.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['hidden'] });
};

/**
 * Serves `files` (path → {type, body}) on 127.0.0.1, gzip when accepted, open to CORS.
 * @param {Record<string, {type: string, body: string}>} files
 * @returns {Promise<{origin: string, close: () => void}>}
 */
function host(files) {
  const gz = Object.fromEntries(Object.entries(files).map(([p, f]) => [p, gzipSync(f.body)]));
  const server = http.createServer((req, res) => {
    const path = (req.url || '/').split('?')[0];
    const f = files[path];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] || ''));
    const body = gzip ? gz[path] : Buffer.from(f.body);
    res.writeHead(200, {
      'content-type': f.type,
      'content-length': body.length,
      'cache-control': 'no-cache',
      'access-control-allow-origin': '*',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({ origin: `http://127.0.0.1:${a.port}`, close: () => server.close() });
    });
  });
}

/** @param {string} url */
async function text(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

/**
 * One page load in a fresh context: when the launcher was shown and the load event's times
 * (ms since the navigation started), and the widget files requested before any click.
 * @param {any} browser
 * @param {string} url
 */
async function loadOnce(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  try {
    const page = await context.newPage();
    await page.addInitScript(DETECT);
    /** @type {string[]} */
    const requested = [];
    page.on('request', (/** @type {any} */ r) => requested.push(r.url()));
    await page.goto(url, { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => /** @type {any} */ (window).__cwReady !== null, null, { timeout: 10000, polling: 20 });
    const t = await page.evaluate(() => {
      const n = /** @type {PerformanceNavigationTiming} */ (performance.getEntriesByType('navigation')[0]);
      return { ready: /** @type {any} */ (window).__cwReady, load_start: n.loadEventStart, load_end: n.loadEventEnd, dcl: n.domContentLoadedEventEnd };
    });
    return { ...t, requested };
  } finally {
    await context.close();
  }
}

/**
 * Runs the part.
 * @param {{browser: any, server: string, loads: number}} o
 */
export async function ready({ browser, server, loads }) {
  const demo = await text(`${server}/`);
  const js = (await text(`${server}/widget/chinwag.js`)) + (await text(`${server}/widget/keys.js`));
  const tag = /<script type="module" src="\/widget\/chinwag\.js"([^>]*)><\/script>/;
  if (!tag.test(demo)) throw new Error('the demo page has no widget script tag to swap');
  const page = (/** @type {string} */ src) =>
    demo.replace('href="/demo/demo.css"', `href="${server}/demo/demo.css"`).replace(tag, `<script type="module" src="${src}"$1></script>`);
  const ceilingJs =
    `/*${js.replaceAll('*/', '* /')}*/\n` +
    "const d = document.createElement('div'); d.className = 'chinwag-widget';\n" +
    "const b = document.createElement('button'); b.type = 'button'; b.textContent = 'Chat with us';\n" +
    'd.append(b); document.body.append(d);\n';
  const mod = await host({ '/ceiling.js': { type: 'text/javascript', body: ceilingJs } });
  const site = await host({
    '/widget.html': { type: 'text/html; charset=utf-8', body: page(`${server}/widget/chinwag.js`) },
    '/ceiling.html': { type: 'text/html; charset=utf-8', body: page(`${mod.origin}/ceiling.js`) },
  });
  try {
    /** @type {Record<'widget' | 'ceiling', any[]>} */
    const runs = { widget: [], ceiling: [] };
    let requested = /** @type {string[]} */ ([]);
    for (let i = -2; i < loads; i++) {
      for (const side of /** @type {const} */ (['widget', 'ceiling'])) {
        const r = await loadOnce(browser, `${site.origin}/${side}.html`);
        if (side === 'widget') requested = r.requested;
        if (i >= 0) runs[side].push(r); // the first two of each warm the browser up
      }
      if (i >= 0 && (i + 1) % 5 === 0) say(`ready: ${i + 1} of ${loads} loads each`);
    }
    const side = (/** @type {any[]} */ rs) => ({
      ready_ms: summary(rs.map((r) => r.ready)),
      load_end_ms: summary(rs.map((r) => r.load_end)),
      ready_after_load_ms: summary(rs.map((r) => r.ready - r.load_end)),
      ready_before_load_end: rs.filter((r) => r.ready <= r.load_end).length,
      samples: rs.map(({ ready, load_start, load_end, dcl }) => ({ ready, load_start, load_end, dcl })),
    });
    const w = side(runs.widget);
    const c = side(runs.ceiling);
    const widgetFiles = requested.filter((u) => u.startsWith(`${server}/widget/`)).map((u) => new URL(u).pathname.replace('/widget/', ''));
    return {
      loads,
      ceiling_module_bytes: Buffer.byteLength(ceilingJs),
      widget_files_before_click: widgetFiles,
      widget: w,
      ceiling: c,
      ratio_ready_p50: w.ready_ms.p50 / c.ready_ms.p50,
      ratio_ready_p95: w.ready_ms.p95 / c.ready_ms.p95,
    };
  } finally {
    site.close();
    mod.close();
  }
}
