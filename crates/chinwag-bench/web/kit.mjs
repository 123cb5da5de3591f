//! Shared by the parts of the `web` benchmark: playwright-core (taken from the install under
//! tests/node, never downloaded here), Chromium, a wall clock comparable between this process
//! and a page, and percentiles.
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Chromium through the playwright-core of `testsNode`'s node_modules.
 * @param {string} testsNode the tests/node folder
 */
export async function launch(testsNode) {
  const require = createRequire(join(testsNode, 'package.json'));
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** Milliseconds since the epoch, sub-millisecond (as a page's `timeOrigin + now()`). */
export const now = () => performance.timeOrigin + performance.now();

/**
 * The page's clock minus this process's, from the round trip with the smallest delay
 * (`error_ms`: half that round trip, the most the estimate can be off by).
 * @param {any} page a playwright Page
 */
export async function clockOffset(page) {
  let best = { offset_ms: 0, error_ms: Infinity };
  for (let i = 0; i < 30; i++) {
    const t0 = now();
    const p = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t1 = now();
    if ((t1 - t0) / 2 < best.error_ms) best = { offset_ms: p - (t0 + t1) / 2, error_ms: (t1 - t0) / 2 };
  }
  return best;
}

/**
 * Count, mean and percentiles (nearest rank) of a list of milliseconds.
 * @param {number[]} xs
 */
export function summary(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (/** @type {number} */ q) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : null);
  const r = (/** @type {number | null} */ v) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    n: s.length,
    mean: r(s.length ? s.reduce((a, b) => a + b, 0) / s.length : null),
    min: r(s[0] ?? null),
    p50: r(at(0.5)),
    p95: r(at(0.95)),
    p99: r(at(0.99)),
    max: r(s[s.length - 1] ?? null),
  };
}

/** Progress on stderr (stdout carries the result). @param {string} msg */
export const say = (msg) => process.stderr.write(`web: ${msg}\n`);

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `fn` answers true (checked every `every` ms), or fails after `ms`.
 * @param {() => Promise<boolean> | boolean} fn
 * @param {number} ms
 * @param {string} what
 */
export async function until(fn, ms, what, every = 50) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
