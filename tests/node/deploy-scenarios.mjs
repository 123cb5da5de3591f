// What every shipped load-balancer recipe must carry, checked through a running balancer
// over TLS: the REST chat flow, the official CometD client over WebSocket and long-polling,
// held connects outliving the balancer's timeouts, /health, X-Forwarded-For, cookie
// attributes (GMS deployment notes: SameSite=None; Secure; Partitioned) and body limits.
import assert from "node:assert/strict";
import { Agent, AGENT_TOKEN, CHANNEL, SERVICE, until, uniqueTag, indexes, strictlyIncreasing } from "./harness.mjs";
import { client, handshake, publish, disconnect, notifications } from "./cometd-client.mjs";
import { request, postForm, cookieAttributes, firstWebSocketFrame, run } from "./deploy-helper.mjs";

/**
 * Chinwag nodes behind each balancer for the scenarios about the balancer itself (cookies,
 * per-address limits — counted by each node —, bodies, redirects). The chat scenarios (REST
 * with an agent, CometD, the agent stream, /health) also run against CLUSTER_NODES nodes on
 * one Redis.
 */
export const NODES = 1;

/** Nodes sharing one Redis behind a second balancer, for the chat scenarios. */
export const CLUSTER_NODES = 3;

/**
 * NODE_CONFIG plus the shared Redis store at `url`; a short node lease, so a killed node's
 * CometD sessions are taken over within 1.5 s.
 */
export const clusterConfig = (url) => ({
  ...NODE_CONFIG,
  extraToml: `${NODE_CONFIG.extraToml}\n[store]\nurl = "${url}"\nlease_ttl_ms = 1500\n`,
});

/** The service whose new-chat limit per address shows which address Chinwag counted. */
export const LIMITED = "limited";

/** Node configuration: the balancer (127.0.0.1) is a trusted proxy. */
export const NODE_CONFIG = {
  serverToml: `trusted_proxies = ["127.0.0.1"]`,
  extraToml: `
[services.${SERVICE}]
queue = "default"

[services.${LIMITED}]
queue = "default"

[services.${LIMITED}.limits]
new_chats_per_ip = { per_second = 0.001, burst = 2 }
`,
};

const events = (notes) => notes.flatMap((n) => n.messages || []);
const texts = (notes) => events(notes).filter((e) => e.type === "Message").map((e) => e.text);

/** GMS REST through `base`: request chat, the agent accepts, send, refresh, disconnect. */
export async function restChat(base) {
  const svc = `${base}/genesys/2/chat/${SERVICE}`;
  const tag = uniqueTag();
  const started = await postForm(`${svc}/`, { nickname: "Joan", subject: "deploy", "userData[tag]": tag });
  assert.equal(started.status, 200, started.text);
  assert.equal(started.json.statusCode, 0);
  const { chatId, userId, secureKey, alias } = started.json;
  const creds = { userId, secureKey, alias };
  const agent = new Agent(base);
  await agent.ready();
  await agent.acceptNext(chatId);

  const sent = await postForm(`${svc}/${chatId}/send`, { ...creds, message: "hello through the balancer" });
  assert.equal(sent.json.statusCode, 0, sent.text);
  await agent.say(chatId, "hello from the agent");
  const seen = await until(async () => {
    const r = await postForm(`${svc}/${chatId}/refresh`, { ...creds, transcriptPosition: "1" });
    assert.equal(r.json.statusCode, 0, r.text);
    const t = r.json.messages.filter((e) => e.type === "Message").map((e) => e.text);
    return t.includes("hello from the agent") && r.json;
  }, 10000, "the agent's message in a refresh");
  assert.ok(seen.messages.some((e) => e.type === "Message" && e.text === "hello through the balancer"));
  strictlyIncreasing(seen.messages.map((e) => e.index));
  const view = await agent.view(chatId);
  assert.ok(view.events.some((e) => e.text === "hello through the balancer" && e.from.party_type === "Client"));

  const bye = await postForm(`${svc}/${chatId}/disconnect`, creds);
  assert.equal(bye.json.statusCode, 0, bye.text);
  assert.equal(bye.json.chatEnded, true);
}

/**
 * A browser page served from the balancer's own origin may call the API: Chinwag recognises
 * its own origin by comparing Origin with Host, so the balancer must pass the Host the
 * client sent, port included.
 */
export async function ownOrigin(base) {
  const r = await postForm(`${base}/genesys/2/chat/${SERVICE}/`, { nickname: "Joan" }, { headers: { origin: base } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.statusCode, 0);
  await postForm(`${base}/genesys/2/chat/${SERVICE}/${r.json.chatId}/disconnect`, { userId: r.json.userId, secureKey: r.json.secureKey });
}

/** The official CometD client on `transport` through `base`: a chat both ways. */
export async function cometdChat(base, transport) {
  const c = client(`${base}/genesys/cometd`, transport);
  const notes = notifications(c);
  try {
    await handshake(c);
    assert.equal(c.getTransport().type, transport, "the transport the client negotiated");
    const tag = uniqueTag();
    await publish(c, CHANNEL, { operation: "requestChat", nickname: "Joan", subject: "deploy", userData: { tag } });
    const first = await until(() => notes.find((n) => n.secureKey), 10000, "requestChat notification");
    const agent = new Agent(base);
    await agent.ready();
    const chatId = await agent.acceptWhere((v) => v.user_data.tag === tag);
    await agent.say(chatId, `agent over ${transport}`);
    await until(() => texts(notes).includes(`agent over ${transport}`), 10000, "the agent's message as a CometD event");
    await publish(c, CHANNEL, { operation: "sendMessage", secureKey: first.secureKey, message: `customer over ${transport}` });
    await until(async () => (await agent.view(chatId)).events.some((e) => e.text === `customer over ${transport}`), 10000, "the customer's message at the agent");
    strictlyIncreasing(indexes(notes));
    await publish(c, CHANNEL, { operation: "disconnect", secureKey: first.secureKey });
    await until(() => notes.some((n) => n.chatEnded === true), 10000, "chat ended");
  } finally {
    await disconnect(c);
  }
}

/**
 * The official client on `transport` until its second /meta/connect answer: the first is
 * answered at once, the second is held for Chinwag's whole cometd.timeout_ms (25 s), which
 * the balancer must let through rather than time out.
 */
export async function heldConnect(base, transport) {
  const c = client(`${base}/genesys/cometd`, transport);
  const replies = [];
  c.addListener("/meta/connect", (m) => replies.push(m));
  try {
    await handshake(c);
    assert.equal(c.getTransport().type, transport);
    await until(() => replies.length >= 2, 45000, `a held connect over ${transport}`);
    const brief = replies.map((m) => ({ successful: m.successful, error: m.error, code: m.failure?.httpCode ?? m.failure?.websocketCode }));
    assert.deepEqual(brief.slice(0, 2).map((m) => m.successful), [true, true], JSON.stringify(brief));
  } finally {
    await disconnect(c);
  }
}

/** The agent API's WebSocket event stream through `base`: upgraded, first frame a status. */
export async function agentStream(base) {
  const frame = JSON.parse(await firstWebSocketFrame(`${base}/agent/v1/events?token=${AGENT_TOKEN}`));
  assert.equal(frame.type, "status", JSON.stringify(frame));
}

/** /health through `base` (with HSTS): round-robin without affinity reaches every node. */
export async function health(base, nodeCount) {
  const seen = new Set();
  for (let i = 0; i < 2 * nodeCount; i++) {
    const r = await request(`${base}/health`);
    assert.equal(r.status, 200);
    assert.match(r.headers["strict-transport-security"] || "", /max-age=\d+/, "HSTS");
    const h = JSON.parse(r.text);
    assert.equal(h.status, "ok");
    seen.add(h.app_dbid);
  }
  assert.deepEqual([...seen].sort(), Array.from({ length: nodeCount }, (_, i) => i + 1), "every node answered");
}

/**
 * Per-address limits count the client's address the balancer forwarded (clients come from
 * 127.0.0.2 and 127.0.0.3; the balancer reaches Chinwag from 127.0.0.1), and a client's own
 * X-Forwarded-For does not move it to another bucket.
 */
export async function forwardedFor(base) {
  const url = `${base}/genesys/2/chat/${LIMITED}/`;
  const chat = (localAddress, headers = {}) => postForm(url, { nickname: "limits" }, { localAddress, headers });
  for (let i = 0; i < 2; i++) {
    const r = await chat("127.0.0.2");
    assert.equal(r.json?.statusCode, 0, `chat ${i + 1} of the burst: ${r.text}`);
  }
  const over = await chat("127.0.0.2");
  assert.equal(over.status, 429, `beyond the burst: ${over.text}`);
  const spoofed = await chat("127.0.0.2", { "x-forwarded-for": "10.7.7.7" });
  assert.equal(spoofed.status, 429, `a client's own X-Forwarded-For is not believed: ${spoofed.text}`);
  const other = await chat("127.0.0.3");
  assert.equal(other.json?.statusCode, 0, `another address has its own budget: ${other.text}`);
}

/** The BAYEUX_BROWSER cookie of a handshake through `base`. */
export async function browserCookie(base) {
  const r = await request(`${base}/genesys/cometd/handshake`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([{ channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] }]),
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.parse(r.text)[0].successful, true);
  const cookie = [].concat(r.headers["set-cookie"] || []).find((c) => c.startsWith("BAYEUX_BROWSER="));
  assert.ok(cookie, `a BAYEUX_BROWSER cookie: ${JSON.stringify(r.headers["set-cookie"])}`);
  return cookie;
}

/** SameSite=None, Secure, HttpOnly, Partitioned and Path each present exactly once. */
export function assertCrossSiteCookie(cookie) {
  const attrs = cookieAttributes(cookie);
  for (const a of ["path", "httponly", "secure", "samesite", "partitioned"]) {
    assert.equal(attrs.filter((x) => x === a).length, 1, `${a} once in ${cookie}`);
  }
  assert.match(cookie, /;\s*samesite=none\s*(;|$)/i, cookie);
  assert.match(cookie, /;\s*path=\/\s*(;|$)/i, cookie);
}

/**
 * The console's session cookie after a demo sign-in through `base` (https): Chinwag's
 * `__Host-` cookie arrives with SameSite=Strict, Secure, HttpOnly, Path=/ each once, and no
 * Partitioned: the balancer's cross-site rules for BAYEUX_BROWSER leave it alone.
 */
export async function consoleCookie(base) {
  const r = await request(`${base}/agent/v1/session/demo`, { method: "POST", headers: { "x-chinwag-csrf": "1", origin: base } });
  assert.equal(r.status, 200, r.text);
  const cookie = [].concat(r.headers["set-cookie"] || []).find((c) => c.startsWith("__Host-chinwag_session="));
  assert.ok(cookie, `a __Host-chinwag_session cookie: ${JSON.stringify(r.headers["set-cookie"])}`);
  const attrs = cookieAttributes(cookie);
  for (const a of ["path", "httponly", "secure", "samesite"]) {
    assert.equal(attrs.filter((x) => x === a).length, 1, `${a} once in ${cookie}`);
  }
  assert.match(cookie, /;\s*samesite=strict\s*(;|$)/i, cookie);
  assert.match(cookie, /;\s*path=\/\s*(;|$)/i, cookie);
  assert.ok(!attrs.includes("partitioned"), `not partitioned: ${cookie}`);
}

/**
 * Bodies between Chinwag's own limit (server.max_body_bytes, 64 KiB) and the balancer's are
 * answered by Chinwag in the GMS format; larger ones are refused by the balancer (413).
 */
export async function bodyLimits(base) {
  const url = `${base}/genesys/2/chat/${SERVICE}/`;
  const mid = await postForm(url, { nickname: "big", subject: "x".repeat(70 * 1024) });
  assert.equal(mid.status, 400, mid.text);
  assert.equal(mid.json.errors[0].code, 204, mid.text);
  const huge = await request(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `nickname=huge&subject=${"x".repeat(600 * 1024)}`,
  });
  assert.equal(huge.status, 413, huge.text.slice(0, 200));
}

/**
 * Two official CometD clients on `transport` through `base` (round-robin over nodes sharing
 * a Redis, no affinity), on one chat: the first starts it, the second watches it with its
 * key; each writes five messages. Each client gets all ten, every event once, in order —
 * whichever node each of its requests reached (a node forwards to the session's owner).
 */
export async function clusterChat(base, transport) {
  const one = client(`${base}/genesys/cometd`, transport);
  const two = client(`${base}/genesys/cometd`, transport);
  const notesOne = notifications(one);
  const notesTwo = notifications(two);
  const failures = [];
  for (const c of [one, two]) c.addListener("/meta/connect", (m) => m.successful || failures.push(m));
  try {
    await handshake(one);
    assert.equal(one.getTransport().type, transport);
    await publish(one, CHANNEL, { operation: "requestChat", nickname: "Roaming", subject: "cluster" });
    const first = await until(() => notesOne.find((n) => n.secureKey), 10000, "requestChat notification");
    await handshake(two);
    await publish(two, CHANNEL, { operation: "requestNotifications", secureKey: first.secureKey, transcriptPosition: 1 });
    const want = [];
    for (let i = 0; i < 5; i++) {
      await publish(one, CHANNEL, { operation: "sendMessage", secureKey: first.secureKey, message: `one ${i}` });
      await publish(two, CHANNEL, { operation: "sendMessage", secureKey: first.secureKey, message: `two ${i}` });
      want.push(`one ${i}`, `two ${i}`);
    }
    for (const [name, notes] of [["first", notesOne], ["second", notesTwo]]) {
      await until(() => texts(notes).includes("two 4") && texts(notes).includes("one 4"), 20000, `every message at the ${name} client`);
      assert.deepEqual(texts(notes), want, `the ${name} client: each message once, in order`);
      const idx = indexes(notes);
      strictlyIncreasing(idx);
      assert.deepEqual(idx, Array.from({ length: idx.length }, (_, i) => i + idx[0]), "no index missing");
    }
    assert.deepEqual(failures.map((m) => m.error), [], "no connect failed (no 402)");
  } finally {
    await Promise.all([disconnect(one), disconnect(two)]);
  }
}

/**
 * Publishes `data` on the chat channel; a publish the client failed because its socket
 * died under it (no answer from Chinwag: as on one node, its fate is unknown) is sent
 * again, as an application would. Any answer from Chinwag counts (a refusal fails).
 */
async function resend(c, data) {
  for (let attempt = 0; ; attempt++) {
    const r = await new Promise((resolve) => c.publish(CHANNEL, data, resolve));
    if (r.successful) return r;
    if (r.error || attempt >= 5) throw new Error(JSON.stringify(r.error ?? r.failure?.reason ?? "publish failed"));
    await new Promise((wake) => setTimeout(wake, 300));
  }
}

/** Messages once each, in arrival order of their first copy. */
const unique = (list) => [...new Set(list)];

/**
 * Two official CometD clients on `transport` through `base` (round-robin over `cluster`'s
 * nodes on the Redis at `redisUrl`) on one chat; mid-chat the node owning the first
 * client's session is killed with SIGKILL. The first client goes on with the same clientId
 * (another node takes its session over once the dead node's lease ran out, rebuilding its
 * watch) and gets every message of both clients — after dedupe by transcript index, events
 * the dead node had sent but the client had not confirmed may come twice — in order.
 * A publish in flight on a socket that dies with the node is sent again (see `resend`).
 * The killed node is started again at the end, and waited for behind the balancer.
 */
export async function clusterOwnerKilled(base, cluster, redisUrl, transport) {
  const one = client(`${base}/genesys/cometd`, transport);
  const two = client(`${base}/genesys/cometd`, transport);
  const notesOne = notifications(one);
  const notesTwo = notifications(two);
  const handshakes = [];
  one.addListener("/meta/handshake", (m) => handshakes.push(m));
  let killed;
  try {
    await handshake(one);
    const id = one.getClientId();
    await publish(one, CHANNEL, { operation: "requestChat", nickname: "Survivor", subject: "owner killed" });
    const first = await until(() => notesOne.find((n) => n.secureKey), 10000, "requestChat notification");
    await handshake(two);
    await publish(two, CHANNEL, { operation: "requestNotifications", secureKey: first.secureKey, transcriptPosition: 1 });
    const say = async (i) => {
      await resend(one, { operation: "sendMessage", secureKey: first.secureKey, message: `one ${i}` });
      await resend(two, { operation: "sendMessage", secureKey: first.secureKey, message: `two ${i}` });
    };
    for (let i = 0; i < 3; i++) await say(i);
    await until(() => texts(notesOne).includes("two 2"), 20000, "the first messages at the first client");
    // The node owning the first client's session: its holder is `n<node_id>-…`.
    const port = new URL(redisUrl).port;
    const owner = run("redis-cli", ["-p", port, "HGET", `chinwag:bx:{${id}}`, "owner"]).trim();
    const m = /^n(\d+)-/.exec(owner);
    assert.ok(m, `the session's owner in the directory: ${owner}`);
    killed = Number(m[1]) - 1;
    await cluster.nodes[killed].stop("SIGKILL");
    for (let i = 3; i < 6; i++) await say(i);
    const want = Array.from({ length: 6 }, (_, i) => [`one ${i}`, `two ${i}`]).flat();
    await until(() => texts(notesOne).includes("two 5"), 30000, "the messages after the owner died");
    assert.equal(one.getClientId(), id, "the same session goes on");
    assert.equal(handshakes.length, 1, "no new handshake (no 402)");
    assert.deepEqual(unique(texts(notesOne)), want, "every message, in order");
    const idx = unique(indexes(notesOne));
    strictlyIncreasing(idx);
    assert.deepEqual(idx, Array.from({ length: idx.length }, (_, i) => i + idx[0]), "no index missing");
    await until(() => texts(notesTwo).includes("two 5"), 20000, "every message at the second client");
    assert.deepEqual(unique(texts(notesTwo)), want);
    let takeovers = 0;
    for (const [i, node] of cluster.nodes.entries()) {
      if (i === killed) continue;
      const text = await (await fetch(`${node.base}/metrics`)).text();
      takeovers += Number(/^chinwag_bayeux_takeovers_total (\S+)$/m.exec(text)?.[1] ?? NaN);
    }
    assert.ok(takeovers >= 1, `a live node took the session over: ${takeovers}`);
  } finally {
    await Promise.all([disconnect(one), disconnect(two)]);
    if (killed !== undefined) {
      await cluster.restart(killed);
      // The balancer set the dead node aside for a while: until it is back in rotation.
      await until(async () => JSON.parse((await request(`${base}/health`)).text).app_dbid === killed + 1, 30000, "the restarted node back behind the balancer");
    }
  }
}
