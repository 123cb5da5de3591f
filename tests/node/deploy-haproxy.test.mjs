// deploy/haproxy/chinwag.cfg, for real: HAProxy started as this user on free ports with the
// shipped file (only its backend servers, bind ports, certificate, chroot and stats socket
// paths substituted) in front of real Chinwag nodes; every check goes through it over TLS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileSync, mkdirSync, rmSync } from "node:fs";
import net from "node:net";
import { freePort, until } from "./harness.mjs";
import { shipped, makeCertificate, trustCertificate, startNodes, startRedis, startProcess, request, tempDir, userExists, run } from "./deploy-helper.mjs";
import * as s from "./deploy-scenarios.mjs";

const ctx = {};

/** HAProxy with the shipped recipe in front of `servers` ("host:port"); files under `dir`. */
async function startHaproxy(dir, servers, cert) {
  const tlsPort = await freePort();
  const httpPort = await freePort();
  const chroot = join(dir, "chroot");
  mkdirSync(chroot, { recursive: true });
  const replacements = [
    [/(^ *server node\d+ 10\.0\.0\.\d+:8080\n)+/m, () => servers.map((u, i) => `    server node${i + 1} ${u}\n`).join("")],
    ["    bind :80\n", `    bind 127.0.0.1:${httpPort}\n`],
    ["bind :443 ssl", `bind 127.0.0.1:${tlsPort} ssl`],
    ["/etc/haproxy/certs/chinwag.pem", cert.combined],
    ["/var/lib/haproxy", chroot],
    ["/run/haproxy/admin.sock", join(dir, "admin.sock")],
  ];
  // chroot and the switch to the haproxy user need root; run without them otherwise.
  if (process.getuid() !== 0 || !userExists("haproxy")) {
    replacements.push([/^ *(chroot|user|group) .*\n/gm, ""]);
  }
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, shipped("haproxy/chinwag.cfg", replacements));
  run("haproxy", ["-c", "-f", file]);
  const proc = await startProcess("haproxy", ["-db", "-f", file], { ports: [tlsPort, httpPort], what: "haproxy" });
  return { ...proc, tlsPort, httpPort, socket: join(dir, "admin.sock") };
}

/** One command on HAProxy's stats socket; its answer. */
function statsCommand(socket, command) {
  return new Promise((resolve, reject) => {
    let out = "";
    const c = net.connect(socket, () => c.end(`${command}\n`));
    c.setTimeout(5000, () => c.destroy(new Error("stats socket: no answer")));
    c.on("data", (d) => (out += d));
    c.on("end", () => resolve(out));
    c.on("error", reject);
  });
}

/** `show stat` as { "backend/server": { status, check_status } }. */
async function serverStates(socket) {
  const [head, ...rows] = (await statsCommand(socket, "show stat")).trim().split("\n");
  const cols = head.replace(/^# /, "").split(",");
  const out = {};
  for (const row of rows) {
    const v = Object.fromEntries(row.split(",").map((x, i) => [cols[i], x]));
    out[`${v.pxname}/${v.svname}`] = v;
  }
  return out;
}

before(async () => {
  ctx.dir = tempDir("haproxy");
  ctx.cert = makeCertificate(ctx.dir);
  trustCertificate(ctx.cert.pem);
  ctx.cluster = await startNodes(s.NODES, s.NODE_CONFIG);
  ctx.haproxy = await startHaproxy(join(ctx.dir, "main"), ctx.cluster.upstreams, ctx.cert);
  ctx.base = `https://127.0.0.1:${ctx.haproxy.tlsPort}`;
  // Three nodes on one Redis behind a second HAProxy with the same recipe.
  ctx.redis = await startRedis();
  ctx.shared = await startNodes(s.CLUSTER_NODES, s.clusterConfig(ctx.redis.url));
  ctx.haproxy3 = await startHaproxy(join(ctx.dir, "cluster"), ctx.shared.upstreams, ctx.cert);
  ctx.base3 = `https://127.0.0.1:${ctx.haproxy3.tlsPort}`;
});

after(async () => {
  await ctx.haproxy?.stop();
  await ctx.haproxy3?.stop();
  await ctx.cluster?.stop();
  await ctx.shared?.stop();
  await ctx.redis?.stop();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

test("haproxy: GMS REST chat flow over TLS", () => s.restChat(ctx.base));

for (const transport of ["websocket", "long-polling"]) {
  test(`haproxy: the official CometD client over ${transport}`, () => s.cometdChat(ctx.base, transport));
}

test("haproxy: the agent API's WebSocket event stream", () => s.agentStream(ctx.base));

test("haproxy: held CometD connects (25 s) pass on both transports", () =>
  Promise.all([s.heldConnect(ctx.base, "websocket"), s.heldConnect(ctx.base, "long-polling")]));

test("haproxy: /health", () => s.health(ctx.base, s.NODES));

test("haproxy: a page on the balancer's own origin may call the API", () => s.ownOrigin(ctx.base));

test("haproxy: X-Forwarded-For names the client to Chinwag's per-address limits", () => s.forwardedFor(ctx.base));

test("haproxy: BAYEUX_BROWSER gets SameSite=None; Secure; HttpOnly; Partitioned", async () => {
  s.assertCrossSiteCookie(await s.browserCookie(ctx.base));
});

test("haproxy: the console's session cookie keeps SameSite=Strict (and is not partitioned)", () => s.consoleCookie(ctx.base));

test("haproxy: bodies Chinwag can answer reach it; larger ones are refused by HAProxy", () => s.bodyLimits(ctx.base));

test("haproxy: plain HTTP is redirected to HTTPS, keeping the method", async () => {
  const r = await request(`http://127.0.0.1:${ctx.haproxy.httpPort}/genesys/2/chat/customer-support/`, { method: "POST" });
  assert.equal(r.status, 308);
  assert.match(r.headers.location, /^https:\/\/127\.0\.0\.1(:\d+)?\/genesys\/2\/chat\/customer-support\/$/);
});

test("haproxy: nodes are checked on /health; a dead one gets no traffic", async () => {
  const dead = `127.0.0.1:${await freePort()}`;
  const h = await startHaproxy(join(ctx.dir, "checks"), [...ctx.cluster.upstreams, dead], ctx.cert);
  try {
    const live = ctx.cluster.upstreams.map((_, i) => `chinwag/node${i + 1}`);
    const down = `chinwag/node${ctx.cluster.upstreams.length + 1}`;
    const states = await until(async () => {
      const st = await serverStates(h.socket);
      return st[down]?.status === "DOWN" && live.every((n) => st[n]?.check_status === "L7OK") && st;
    }, 20000, "health checks to settle");
    for (const n of live) assert.equal(states[n].status, "UP");
    // Every request lands on a live node; none waits on the dead one.
    for (let i = 0; i < 6; i++) await s.health(`https://127.0.0.1:${h.tlsPort}`, s.NODES);
    assert.equal((await serverStates(h.socket))[down].stot, "0", "sessions sent to the dead node");
  } finally {
    await h.stop();
  }
});

test("haproxy: a node's own SameSite=None; Secure; Partitioned is not doubled", async () => {
  const cluster = await startNodes(1, { ...s.NODE_CONFIG, cometdToml: "cross_site_cookie = true" });
  const h = await startHaproxy(join(ctx.dir, "cross-site"), cluster.upstreams, ctx.cert);
  try {
    s.assertCrossSiteCookie(await s.browserCookie(`https://127.0.0.1:${h.tlsPort}`));
  } finally {
    await h.stop();
    await cluster.stop();
  }
});

for (const transport of ["websocket", "long-polling"]) {
  test(`haproxy: round-robin over ${s.CLUSTER_NODES} nodes on one Redis: the official CometD client over ${transport} gets every message once, in order`, () =>
    s.clusterChat(ctx.base3, transport));
}

test(`haproxy: round-robin over ${s.CLUSTER_NODES} nodes on one Redis: GMS REST chat with an agent, every call on the next node`, () =>
  s.restChat(ctx.base3));

test(`haproxy: round-robin over ${s.CLUSTER_NODES} nodes on one Redis: the agent API's WebSocket event stream`, () =>
  s.agentStream(ctx.base3));

test(`haproxy: round-robin over ${s.CLUSTER_NODES} nodes on one Redis: /health of each node`, () => s.health(ctx.base3, s.CLUSTER_NODES));
