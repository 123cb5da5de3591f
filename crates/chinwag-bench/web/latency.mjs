//! Part `latency`: customer message to the agent's screen, over the console's WebSocket in
//! Chromium, against a plain WebSocket client of the same agent's event stream in this
//! process (the ceiling), both receiving the same messages in the same run.
//!
//! One console page signs in through its form as the configured agent, starts work, goes
//! ready and accepts `chats` offers by clicking their cards. Customers speak GMS REST
//! (`POST …/send`, keep-alive, from this process), each sending `rate` messages a second on
//! a fixed schedule (open loop, customers evenly staggered) for `seconds`. Every text starts
//! with `#m<n>#`. The page records, with a MutationObserver, when each message's transcript
//! line is added (`timeOrigin + now()`); the stream client records when its `event` frame
//! arrives. The page's clock is compared with this one before and after (the offset is
//! subtracted; its error bound is reported).
import { startDiag } from './diag.mjs';
import { clockOffset, now, say, sleep, summary, until } from './kit.mjs';

const SERVICE = '/genesys/2/chat/customer-support';
const MARK = /#m(\d+)#/;

/** A customer on GMS REST. */
class Customer {
  /** @param {string} server @param {number} n */
  constructor(server, n) {
    this.rest = `${server}${SERVICE}`;
    this.n = n;
    /** @type {Record<string, string>} */
    this.creds = {};
    this.chatId = '';
  }

  /** @param {string} path @param {Record<string, string>} fields */
  async post(path, fields) {
    const r = await fetch(this.rest + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      signal: AbortSignal.timeout(10000),
    });
    const json = await r.json();
    if (json.statusCode !== 0) throw new Error(`HTTP ${r.status}: ${JSON.stringify(json)}`);
    return json;
  }

  async start() {
    const j = await this.post('/', { nickname: `Bench ${this.n}`, subject: 'load', emailAddress: `c${this.n}@example.com` });
    this.creds = { userId: j.userId, secureKey: j.secureKey, alias: j.alias };
    this.chatId = j.chatId;
  }

  /** @param {string} message */
  send(message) {
    return this.post(`/${this.chatId}/send`, { ...this.creds, message });
  }
}

/**
 * The ceiling: the agent's event stream over a plain WebSocket (bearer token), recording
 * when each marked customer message arrives.
 * @param {string} server
 * @param {string} token
 * @param {Map<number, number>} seen
 */
async function openStream(server, token, seen) {
  const url = `${server.replace(/^http/, 'ws')}/agent/v1/events`;
  const ws = new WebSocket(url, /** @type {any} */ ({ headers: { authorization: `Bearer ${token}` } }));
  ws.onmessage = (ev) => {
    const t = now();
    const f = JSON.parse(String(ev.data));
    if (f.type !== 'event' || f.event.kind !== 'Message' || f.event.from?.party_type !== 'Client') return;
    const m = MARK.exec(f.event.text || '');
    if (m && !seen.has(Number(m[1]))) seen.set(Number(m[1]), t);
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`the event stream ${url} did not open`));
  });
  return ws;
}

/** In the page: records when each marked message's transcript line is added. */
const WATCH = () => {
  const seen = new Map();
  /** @type {any} */ (window).__cwSeen = seen;
  const mark = /#m(\d+)#/;
  const take = (/** @type {Element} */ el, /** @type {number} */ t) => {
    if (el.getAttribute('data-kind') !== 'Message') return;
    const m = mark.exec(el.textContent || '');
    if (m && !seen.has(Number(m[1]))) seen.set(Number(m[1]), t);
  };
  new MutationObserver((records) => {
    const t = performance.timeOrigin + performance.now();
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (!(n instanceof Element)) continue;
        if (n.classList.contains('line')) take(n, t);
        else for (const l of n.querySelectorAll('.line')) take(l, t);
      }
    }
  }).observe(document.body, { subtree: true, childList: true });
};

/**
 * Signs the console in through its form, starts work and goes ready.
 * @param {any} page
 * @param {string} server
 * @param {string} id
 * @param {string} password
 */
async function openConsole(page, server, id, password) {
  await page.goto(`${server}/console/`);
  await page.fill('#signin-id', id);
  await page.fill('#signin-password', password);
  await page.click('#signin-submit');
  await page.waitForSelector('#work:not([hidden])', { timeout: 15000 });
  if (await page.isVisible('#start-work')) await page.click('#start-work');
  await page.waitForSelector('#state:not([hidden])');
  await page.selectOption('#state', '');
  await page.waitForSelector('#state.ready', { timeout: 10000 });
}

/**
 * With CHINWAG_BENCH_PROFILE=<file>, a CPU profile of the page over the timed phase, its
 * functions by self time written to <file> (a diagnosis aid; off by default).
 * @param {any} page
 */
async function startProfile(page) {
  const file = process.env.CHINWAG_BENCH_PROFILE;
  if (!file) return null;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  return {
    async stop() {
      const { profile } = await cdp.send('Profiler.stop');
      /** @type {Map<string, number>} */
      const self = new Map();
      const byId = new Map(profile.nodes.map((/** @type {any} */ n) => [n.id, n]));
      const dt = profile.timeDeltas || [];
      profile.samples.forEach((/** @type {number} */ id, /** @type {number} */ i) => {
        const f = byId.get(id).callFrame;
        const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
        self.set(key, (self.get(key) || 0) + (dt[i] || 0) / 1000);
      });
      const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, top.map(([k, ms]) => `${ms.toFixed(1)} ms  ${k}`).join('\n') + '\n');
    },
  };
}

/**
 * Runs the part.
 * @param {{browser: any, server: string, agent: string, password: string, token: string,
 *   chats: number, rate: number, seconds: number, serverPid: number | null}} o
 */
export async function latency({ browser, server, agent, password, token, chats, rate, seconds, serverPid }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  /** @type {string[]} */
  const problems = [];
  page.on('pageerror', (/** @type {any} */ e) => problems.push(`pageerror: ${e.message}`));
  await openConsole(page, server, agent, password);
  say('latency: console signed in and ready');
  /** @type {Map<number, number>} */
  const streamSeen = new Map();
  const ws = await openStream(server, token, streamSeen);

  const customers = Array.from({ length: chats }, (_, i) => new Customer(server, i));
  for (const c of customers) await c.start();
  for (const c of customers) {
    const card = page.locator(`.offer[data-chat="${c.chatId}"]`);
    await card.waitFor({ timeout: 15000 });
    await card.getByRole('button', { name: 'Accept' }).click();
    await page.locator(`.tab[data-chat="${c.chatId}"]`).waitFor({ timeout: 10000 });
  }
  say(`latency: ${chats} chats open in the console`);
  await page.evaluate(WATCH);

  let next = 0;
  /** @type {Map<number, number>} */
  const sent = new Map();
  /** @type {number[]} */
  const answered = [];
  let failed = 0;
  /** @type {Map<string, number>} */
  const failures = new Map();
  const fire = (/** @type {Customer} */ c, /** @type {boolean} */ timed) => {
    const n = next++;
    const t0 = now();
    if (timed) sent.set(n, t0);
    return c
      .send(`#m${n}# hello from customer ${c.n}, how long until my order arrives?`)
      .then(() => {
        if (timed) answered.push(now() - t0);
      })
      .catch((/** @type {any} */ e) => {
        failed++;
        const why = String(e?.name === 'TimeoutError' ? 'no answer in 10 s' : e?.message || e).slice(0, 200);
        failures.set(why, (failures.get(why) || 0) + 1);
      });
  };
  // Warm-up: a few untimed messages per chat.
  for (let k = 0; k < 3; k++) await Promise.all(customers.map((c) => fire(c, false)));
  const warm = next;
  await until(async () => (await page.evaluate(() => /** @type {any} */ (window).__cwSeen.size)) >= warm && streamSeen.size >= warm, 15000, 'the warm-up messages');
  const before = await clockOffset(page);
  const profile = await startProfile(page);
  const diag = await startDiag(server, serverPid);

  const period = 1000 / rate;
  const total = chats * rate * seconds;
  const start = now() + 50;
  /** @type {Promise<void>[]} */
  const inflight = [];
  for (let k = 0; k < rate * seconds; k++) {
    for (let i = 0; i < chats; i++) {
      const due = start + k * period + (i * period) / chats;
      const wait = due - now();
      if (wait > 1) await sleep(wait);
      inflight.push(fire(customers[i], true));
    }
  }
  const sendSeconds = (now() - start) / 1000;
  await Promise.all(inflight);
  const where = await diag.stop();
  say(`latency: ${total} messages sent in ${sendSeconds.toFixed(1)} s`);
  const all = () => page.evaluate(() => /** @type {any} */ (window).__cwSeen.size);
  await until(async () => (await all()) >= next && streamSeen.size >= next, 60000, 'every message on screen', 200).catch((e) => say(String(e)));
  await profile?.stop();
  const after = await clockOffset(page);
  /** @type {[number, number][]} */
  const pageSeen = await page.evaluate(() => [.../** @type {any} */ (window).__cwSeen.entries()]);
  ws.close();
  await context.close();

  const offset = (before.offset_ms + after.offset_ms) / 2;
  const shown = new Map(pageSeen);
  /** @type {number[]} */
  const browserMs = [];
  /** @type {number[]} */
  const streamMs = [];
  for (const [n, t0] of sent) {
    const b = shown.get(n);
    const s = streamSeen.get(n);
    if (b !== undefined) browserMs.push(b - offset - t0);
    if (s !== undefined) streamMs.push(s - t0);
  }
  // The stream's worst latency in each second of the schedule: a stall shows as a spike.
  /** @type {number[]} */
  const worstBySecond = [];
  for (const [n, t0] of sent) {
    const s = streamSeen.get(n);
    const k = Math.max(0, Math.floor((t0 - start) / 1000));
    if (s !== undefined) worstBySecond[k] = Math.max(worstBySecond[k] || 0, Math.round(s - t0));
  }
  const onScreen = summary(browserMs);
  const stream = summary(streamMs);
  return {
    chats,
    rate_per_chat: rate,
    seconds,
    messages: total,
    send_seconds: sendSeconds,
    send_failures: failed,
    send_failure_reasons: Object.fromEntries(failures),
    during_sends: where,
    missing_on_screen: total - browserMs.length,
    missing_on_stream: total - streamMs.length,
    clock_offset_ms: { before, after },
    browser_ms: onScreen,
    stream_ms: stream,
    rest_send_answer_ms: summary(answered),
    stream_worst_ms_by_second: worstBySecond,
    ratio_p50: (onScreen.p50 ?? NaN) / (stream.p50 ?? NaN),
    ratio_p99: (onScreen.p99 ?? NaN) / (stream.p99 ?? NaN),
    page_errors: problems,
  };
}
