// Chaos: three Chinwag nodes on one Redis (the shipped redis.conf, AOF on) behind the shipped
// nginx recipe (plain round-robin), CHATS concurrent chats, each a customer over GMS REST and
// an agent over the agent API taking turns for ROUNDS messages each. Mid-run one node is
// killed with SIGKILL and started again; later Redis is restarted. Every request that fails
// (connection error, 502 from nginx, GMS statusCode 1 / HTTP 503) is retried; a send that
// failed may or may not have been stored, so each try carries its own text.
//
// Each chat runs at least ROUNDS rounds and goes on until two rounds after the last fault
// was repaired, so every fault hits chats mid-conversation.
//
// Asserted at the end, per chat, after de-duplicating what each side read by transcript
// index: every acknowledged message reached the other side exactly once and in the order it
// was sent, no unacknowledged one twice, both sides read the same transcript, every chat went
// on to its last round. Printed: sent, delivered, lost, duplicated, and how long clients took
// to be served again after a failure.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { freePort, sleep, until, AGENT_TOKEN, SERVICE } from "./harness.mjs";
import { DEPLOY, makeCertificate, trustCertificate, startNodes, startNginx, startProcess, tempDir, run } from "./deploy-helper.mjs";

const CHATS = Number(process.env.CHAOS_CHATS || 200);
const ROUNDS = Number(process.env.CHAOS_ROUNDS || 6);
const NODES = 3;
const AGENTS = [AGENT_TOKEN, "chaos-agent-token-2", "chaos-agent-token-3", "chaos-agent-token-4"];

const ctx = {};

const startRedis = () =>
  startProcess("redis-server", [join(DEPLOY, "redis", "redis.conf"), "--port", String(ctx.redisPort), "--dir", ctx.redisDir], {
    ports: [ctx.redisPort],
    what: "redis-server",
  });

before(async () => {
  ctx.dir = tempDir("chaos");
  ctx.redisDir = tempDir("chaos-redis");
  ctx.redisPort = await freePort();
  ctx.redis = await startRedis();
  const agents = AGENTS.slice(1)
    .map((t, i) => `[[agents]]\nid = "chaos${i + 2}"\nname = "Chaos ${i + 2}"\ntoken = "${t}"\nqueues = ["default"]\ncapacity = 60\n`)
    .join("\n");
  ctx.cluster = await startNodes(NODES, {
    serverToml: `trusted_proxies = ["127.0.0.1"]`,
    extraToml: `
[store]
url = "redis://127.0.0.1:${ctx.redisPort}"

[queues.default]
offer_timeout_secs = 120

[services.${SERVICE}]
queue = "default"

[services.${SERVICE}.limits]
new_chats_per_ip = { per_second = 100000, burst = 100000 }
requests_per_ip = { per_second = 100000, burst = 100000 }

${agents}
`,
  });
  const cert = makeCertificate(ctx.dir);
  trustCertificate(cert.pem);
  ctx.nginx = await startNginx(ctx.dir, ctx.cluster.upstreams, cert);
  ctx.base = `https://127.0.0.1:${ctx.nginx.tlsPort}`;
});

after(async () => {
  await ctx.nginx?.stop();
  await ctx.cluster?.stop();
  await ctx.redis?.stop();
  for (const d of [ctx.dir, ctx.redisDir]) if (d) rmSync(d, { recursive: true, force: true });
});

/** Failure-to-success gaps (ms) of every request that had to be retried. */
const resumes = [];
let failures = 0;

/**
 * Runs `once` until it returns a value (not `undefined`); a throw or `undefined` is a failure,
 * retried with a short backoff, for at most 90 s.
 */
async function retried(what, once) {
  let firstFailure;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    let value;
    try {
      value = await once();
    } catch {
      value = undefined;
    }
    if (value !== undefined) {
      if (firstFailure !== undefined) resumes.push(Date.now() - firstFailure);
      return value;
    }
    failures++;
    firstFailure ??= Date.now();
    if (Date.now() - firstFailure > 90000) throw new Error(`${what}: no success for 90 s`);
    await sleep(delay);
  }
}

/** One HTTP call through the balancer; resolves `{ status, json }`, rejects on no answer. */
async function call(method, path, { form, json, token } = {}) {
  const headers = {};
  let body;
  if (form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(form).toString();
  } else if (json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(json);
  }
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(ctx.base + path, { method, headers, body, signal: AbortSignal.timeout(15000) });
  const text = await r.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = undefined;
  }
  return { status: r.status, json: parsed };
}

/** A GMS REST call that must answer statusCode 0; anything else is a failure (undefined). */
const gms = async (path, form) => {
  const r = await call("POST", `/genesys/2/chat/${SERVICE}${path}`, { form });
  return r.status === 200 && r.json?.statusCode === 0 ? r.json : undefined;
};
/** An agent API call that must succeed (2xx). */
const agentApi = async (token, method, path, json) => {
  const r = await call(method, `/agent/v1${path}`, { json, token });
  return r.status >= 200 && r.status < 300 ? r.json ?? {} : undefined;
};

/** Which agent token holds each chat, learned by the agents' keepers. */
const owners = new Map();
let running = true;

/** Keeps one agent logged in and ready, accepting every offer, until the run ends. */
async function keeper(token) {
  while (running) {
    try {
      const me = await agentApi(token, "GET", "/me");
      if (me) {
        if (!me.logged_in) await agentApi(token, "POST", "/login");
        if (!me.ready) await agentApi(token, "PUT", "/state", { ready: true });
        for (const c of me.chats) owners.set(c, token);
        for (const o of me.offers) {
          if (await agentApi(token, "POST", `/offers/${o.chat_id}/accept`)) owners.set(o.chat_id, token);
        }
      }
    } catch {
      // The next turn tries again.
    }
    await sleep(250);
  }
}

/** Reads with `read` (retried when it fails) until `done()`, for at most 120 s. */
async function waitFor(what, read, done) {
  const end = Date.now() + 120000;
  for (;;) {
    await retried(what, read);
    if (done()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Adds events to `seen` (index → event) and returns the next position to read from. */
function collect(seen, events, text, from) {
  for (const e of events) {
    const prior = seen.get(e.index);
    if (prior && prior.text !== text(e)) throw new Error(`index ${e.index} read as "${prior.text}" and "${text(e)}"`);
    seen.set(e.index, { text: text(e), from: from(e) });
  }
  return Math.max(0, ...seen.keys()) + 1;
}

/** Progress of every chat (rounds completed), for the fault schedule. */
const progress = new Array(CHATS).fill(0);
/** Set once every fault was injected and repaired, with each chat's progress then. */
let faultsOver = false;
let afterFaults = [];

async function chat(i) {
  const started = await retried("requestChat", () => gms("/", { nickname: `C${i}`, "userData[tag]": `chaos-${i}` }));
  const { chatId, userId, secureKey, alias } = started;
  const creds = { userId, secureKey, alias };
  const token = await until(() => owners.get(chatId), 120000, `an agent for chat ${i}`);
  const r = { chatId, customerSent: [], agentSent: [], unacked: [], customerSeen: new Map(), agentSeen: new Map() };
  let customerNext = 1;
  let agentNext = 1;
  const customerRead = async () => {
    const j = await gms(`/${chatId}/refresh`, { ...creds, transcriptPosition: String(customerNext) });
    if (j) customerNext = collect(r.customerSeen, j.messages, (e) => e.text, (e) => e.from?.type);
    return j;
  };
  const agentRead = async () => {
    const v = await agentApi(token, "GET", `/chats/${chatId}?from=${agentNext}`);
    if (v) agentNext = collect(r.agentSeen, v.events, (e) => e.text, (e) => e.from?.party_type);
    return v;
  };
  const has = (seen, text) => [...seen.values()].some((e) => e.text === text);
  // At least ROUNDS rounds, and on until two rounds after the last fault was repaired.
  for (let k = 1; k <= ROUNDS || !faultsOver || k <= afterFaults[i] + 2; k++) {
    let tries = 0;
    const c = await retried("customer send", async () => {
      const text = `c${i}-${k}-${++tries}`;
      if (await gms(`/${chatId}/send`, { ...creds, message: text })) return text;
      r.unacked.push(text);
    });
    r.customerSent.push(c);
    await waitFor(`chat ${i}: the agent to read "${c}"`, agentRead, () => has(r.agentSeen, c));
    tries = 0;
    const a = await retried("agent send", async () => {
      const text = `a${i}-${k}-${++tries}`;
      if (await agentApi(token, "POST", `/chats/${chatId}/messages`, { text })) return text;
      r.unacked.push(text);
    });
    r.agentSent.push(a);
    await waitFor(`chat ${i}: the customer to read "${a}"`, customerRead, () => has(r.customerSeen, a));
    progress[i] = k;
  }
  // Everything once more from the start, on both sides.
  customerNext = 1;
  agentNext = 1;
  await retried("customer full read", customerRead);
  await retried("agent full read", agentRead);
  await retried("disconnect", () => gms(`/${chatId}/disconnect`, creds));
  return r;
}

const atLeast = (rounds) => until(() => progress.every((p) => p >= rounds), 300000, `every chat past round ${rounds}`);

async function faults(log) {
  await atLeast(2);
  const victim = 1;
  log.killedAt = Date.now();
  await ctx.cluster.nodes[victim].stop("SIGKILL");
  await sleep(1500);
  await ctx.cluster.restart(victim);
  log.nodeBackAt = Date.now();
  await atLeast(Math.min(...progress) + 2);
  log.redisStoppedAt = Date.now();
  await ctx.redis.stop();
  await sleep(1000);
  ctx.redis = await startRedis();
  await until(() => !run("redis-cli", ["-p", String(ctx.redisPort), "PING"]).startsWith("LOADING"), 20000, "the AOF to load");
  log.redisBackAt = Date.now();
  afterFaults = [...progress];
  faultsOver = true;
}

test(`chaos: ${CHATS} chats over ${NODES} nodes behind nginx; kill -9 a node, restart Redis`, { timeout: 900000 }, async () => {
  const keepers = AGENTS.map((t) => keeper(t));
  const log = {};
  const faulting = faults(log);
  const t0 = Date.now();
  const results = await Promise.all(Array.from({ length: CHATS }, (_, i) => chat(i)));
  running = false;
  await Promise.all([faulting, ...keepers]);

  const report = { chats: CHATS, rounds: ROUNDS, sent: 0, unacked: 0, delivered: 0, lost: 0, duplicated: 0, problems: [] };
  const count = (seen, text) => [...seen.values()].filter((e) => e.text === text).length;
  const indexOf = (seen, text) => [...seen.entries()].find(([, e]) => e.text === text)?.[0];
  for (const r of results) {
    for (const [sent, seen, who] of [
      [r.customerSent, r.agentSeen, "customer→agent"],
      [r.agentSent, r.customerSeen, "agent→customer"],
    ]) {
      let last = 0;
      for (const text of sent) {
        report.sent++;
        const n = count(seen, text);
        if (n === 0) report.lost++;
        if (n > 1) report.duplicated += n - 1;
        if (n >= 1) report.delivered++;
        const at = indexOf(seen, text);
        if (at !== undefined && at <= last) report.problems.push(`${r.chatId} ${who}: "${text}" at index ${at} after ${last}`);
        if (at !== undefined) last = at;
      }
    }
    for (const text of r.unacked) {
      report.unacked++;
      const n = Math.max(count(r.agentSeen, text), count(r.customerSeen, text));
      if (n > 1) report.duplicated += n - 1;
    }
    for (const [index, e] of r.customerSeen) {
      const other = r.agentSeen.get(index);
      if (other && other.text !== e.text) report.problems.push(`${r.chatId}: index ${index} is "${e.text}" to the customer, "${other.text}" to the agent`);
    }
  }
  resumes.sort((a, b) => a - b);
  const pct = (p) => (resumes.length ? resumes[Math.min(resumes.length - 1, Math.floor((p / 100) * resumes.length))] : 0);
  console.log(
    `chaos: ${JSON.stringify({ ...report, problems: report.problems.length, failedRequests: failures, retriedRequests: resumes.length, resumeMs: { p50: pct(50), p99: pct(99), max: pct(100) }, runSeconds: (Date.now() - t0) / 1000, faultsAtSeconds: Object.fromEntries(Object.entries(log).map(([k, v]) => [k, (v - t0) / 1000])) })}`,
  );
  assert.deepEqual(report.problems, []);
  assert.equal(report.lost, 0, "acknowledged messages lost");
  assert.equal(report.duplicated, 0, "messages delivered twice");
  assert.equal(report.delivered, report.sent);
  const rounds = results.map((r) => r.customerSent.length);
  assert.ok(rounds.every((n, i) => n >= afterFaults[i] + 2), "every chat went on after the faults");
});
