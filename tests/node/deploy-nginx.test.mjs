// deploy/nginx/chinwag.conf, for real: nginx started as this user on free ports with the
// shipped file (only its upstream servers, listen ports and certificate paths substituted),
// included by a minimal main configuration standing in for Debian's nginx.conf, in front of
// real Chinwag nodes; every check goes through it over TLS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { rmSync, mkdirSync } from "node:fs";
import { makeCertificate, trustCertificate, startNodes, startNginx, startRedis, request, tempDir } from "./deploy-helper.mjs";
import * as s from "./deploy-scenarios.mjs";

const ctx = {};

before(async () => {
  ctx.dir = tempDir("nginx");
  const cert = makeCertificate(ctx.dir);
  trustCertificate(cert.pem);
  ctx.cluster = await startNodes(s.NODES, s.NODE_CONFIG);
  ctx.nginx = await startNginx(ctx.dir, ctx.cluster.upstreams, cert);
  ctx.base = `https://127.0.0.1:${ctx.nginx.tlsPort}`;
  // Three nodes on one Redis behind a second nginx with the same recipe.
  ctx.redis = await startRedis();
  ctx.shared = await startNodes(s.CLUSTER_NODES, s.clusterConfig(ctx.redis.url));
  mkdirSync(join(ctx.dir, "cluster"), { recursive: true });
  ctx.nginx3 = await startNginx(join(ctx.dir, "cluster"), ctx.shared.upstreams, cert);
  ctx.base3 = `https://127.0.0.1:${ctx.nginx3.tlsPort}`;
});

after(async () => {
  await ctx.nginx?.stop();
  await ctx.nginx3?.stop();
  await ctx.cluster?.stop();
  await ctx.shared?.stop();
  await ctx.redis?.stop();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

test("nginx: GMS REST chat flow over TLS", () => s.restChat(ctx.base));

for (const transport of ["websocket", "long-polling"]) {
  test(`nginx: the official CometD client over ${transport}`, () => s.cometdChat(ctx.base, transport));
}

test("nginx: the agent API's WebSocket event stream", () => s.agentStream(ctx.base));

test("nginx: held CometD connects (25 s) pass on both transports", () =>
  Promise.all([s.heldConnect(ctx.base, "websocket"), s.heldConnect(ctx.base, "long-polling")]));

test("nginx: /health", () => s.health(ctx.base, s.NODES));

test("nginx: a page on the balancer's own origin may call the API", () => s.ownOrigin(ctx.base));

test("nginx: X-Forwarded-For names the client to Chinwag's per-address limits", () => s.forwardedFor(ctx.base));

test("nginx: BAYEUX_BROWSER gets SameSite=None; Secure; HttpOnly; Partitioned", async () => {
  s.assertCrossSiteCookie(await s.browserCookie(ctx.base));
});

test("nginx: the console's session cookie keeps SameSite=Strict (and is not partitioned)", () => s.consoleCookie(ctx.base));

test("nginx: bodies Chinwag can answer reach it; larger ones are refused by nginx", () => s.bodyLimits(ctx.base));

test("nginx: plain HTTP is redirected to HTTPS, keeping the method", async () => {
  const r = await request(`http://127.0.0.1:${ctx.nginx.httpPort}/genesys/2/chat/customer-support/`, { method: "POST" });
  assert.equal(r.status, 308);
  assert.match(r.headers.location, /^https:\/\/127\.0\.0\.1\/genesys\/2\/chat\/customer-support\/$/);
});

for (const transport of ["websocket", "long-polling"]) {
  test(`nginx: round-robin over ${s.CLUSTER_NODES} nodes on one Redis: the official CometD client over ${transport} gets every message once, in order`, () =>
    s.clusterChat(ctx.base3, transport));
  test(`nginx: round-robin over ${s.CLUSTER_NODES} nodes on one Redis: the official CometD client over ${transport} goes on when the node owning its session is killed`, () =>
    s.clusterOwnerKilled(ctx.base3, ctx.shared, ctx.redis.url, transport));
}

test(`nginx: round-robin over ${s.CLUSTER_NODES} nodes on one Redis: GMS REST chat with an agent, every call on the next node`, () =>
  s.restChat(ctx.base3));

test(`nginx: round-robin over ${s.CLUSTER_NODES} nodes on one Redis: the agent API's WebSocket event stream`, () =>
  s.agentStream(ctx.base3));

test(`nginx: round-robin over ${s.CLUSTER_NODES} nodes on one Redis: /health of each node`, () => s.health(ctx.base3, s.CLUSTER_NODES));
