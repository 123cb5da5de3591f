// deploy/nginx/chinwag.conf, for real: nginx started as this user on free ports with the
// shipped file (only its upstream servers, listen ports and certificate paths substituted),
// included by a minimal main configuration standing in for Debian's nginx.conf, in front of
// real Chinwag nodes; every check goes through it over TLS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileSync, rmSync, mkdirSync } from "node:fs";
import { freePort } from "./harness.mjs";
import { shipped, makeCertificate, trustCertificate, startNodes, startRedis, startProcess, request, tempDir, run } from "./deploy-helper.mjs";
import * as s from "./deploy-scenarios.mjs";

const ctx = {};

/** nginx with the shipped recipe in front of `upstreams`; files under `dir`. */
async function startNginx(dir, upstreams, cert) {
  const tlsPort = await freePort();
  const httpPort = await freePort();
  const site = shipped("nginx/chinwag.conf", [
    [/(^ *server 10\.0\.0\.\d+:8080( [^;]*);\n)+/m, (_, _line, opts) => upstreams.map((u) => `    server ${u}${opts};\n`).join("")],
    ["listen 80;", `listen 127.0.0.1:${httpPort};`],
    ["listen 443 ssl http2;", `listen 127.0.0.1:${tlsPort} ssl http2;`],
    ["/etc/ssl/chinwag/fullchain.pem", cert.cert],
    ["/etc/ssl/chinwag/privkey.pem", cert.key],
  ]);
  writeFileSync(join(dir, "chinwag.conf"), site);
  // The main file a distribution ships, reduced to what running unprivileged needs: pid,
  // logs and temp files under `dir` (as root, workers stay this user too).
  const user = process.getuid() === 0 ? "user root;\n" : "";
  writeFileSync(join(dir, "nginx.conf"), `${user}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${dir}/chinwag.conf;
}
`);
  const args = ["-p", dir, "-c", join(dir, "nginx.conf")];
  run("nginx", ["-t", "-q", ...args]);
  const proc = await startProcess("nginx", args, { ports: [tlsPort, httpPort], what: "nginx" });
  return { ...proc, tlsPort, httpPort };
}

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

test("nginx: bodies Chinwag can answer reach it; larger ones are refused by nginx", () => s.bodyLimits(ctx.base));

test("nginx: plain HTTP is redirected to HTTPS, keeping the method", async () => {
  const r = await request(`http://127.0.0.1:${ctx.nginx.httpPort}/genesys/2/chat/customer-support/`, { method: "POST" });
  assert.equal(r.status, 308);
  assert.match(r.headers.location, /^https:\/\/127\.0\.0\.1\/genesys\/2\/chat\/customer-support\/$/);
});

for (const transport of ["websocket", "long-polling"]) {
  test(`nginx: round-robin over ${s.CLUSTER_NODES} nodes on one Redis: the official CometD client over ${transport} gets every message once, in order`, () =>
    s.clusterChat(ctx.base3, transport));
}
