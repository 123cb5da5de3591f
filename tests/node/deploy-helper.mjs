// Shared pieces of the deploy/ recipe tests: the shipped files with only ports, upstream
// addresses, certificate paths and temp dirs substituted; N Chinwag nodes; a self-signed
// certificate made with openssl; child processes (nginx, haproxy, redis-server) on free
// ports, stopped by PID; an HTTPS client that trusts the test certificate.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import https from "node:https";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { startServer, until, freePort } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const DEPLOY = join(here, "..", "..", "deploy");

export const tempDir = (prefix) => mkdtempSync(join(tmpdir(), `chinwag-${prefix}-`));

/**
 * The shipped file `rel` (under deploy/) with each `[from, to]` replaced: `from` is a string
 * (every occurrence) or a global RegExp. A `from` that matches nothing throws, so a change of
 * the shipped file cannot silently leave the test on the old shape.
 */
export function shipped(rel, replacements = []) {
  let text = readFileSync(join(DEPLOY, rel), "utf8");
  for (const [from, to] of replacements) {
    const found = typeof from === "string" ? text.includes(from) : (text.match(from) || []).length > 0;
    if (!found) throw new Error(`deploy/${rel}: ${from} not found (the test substitutes it)`);
    text = typeof from === "string" ? text.split(from).join(to) : text.replace(from, to);
  }
  return text;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl in `dir`. */
export function makeCertificate(dir) {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout", key, "-out", cert,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  const pem = readFileSync(cert, "utf8");
  // HAProxy wants the chain and the key in one file.
  const combined = join(dir, "combined.pem");
  writeFileSync(combined, pem + readFileSync(key, "utf8"), { mode: 0o600 });
  return { cert, key, combined, pem };
}

const extraCas = [];
const tlsConnect = tls.connect;
/**
 * Adds `pem` to the CAs every TLS client of this process trusts (the https agents of the
 * CometD client's XHR, its `ws` WebSocket, fetch), as NODE_EXTRA_CA_CERTS would at start:
 * those libraries take no CA option. Verification stays on.
 */
export function trustCertificate(pem) {
  extraCas.push(pem);
  if (tls.connect === tlsConnect) {
    tls.connect = function connect(...args) {
      if (args[0] && typeof args[0] === "object" && !args[0].ca) {
        args[0] = { ...args[0], ca: [...tls.rootCertificates, ...extraCas] };
      }
      return tlsConnect.apply(this, args);
    };
  }
}

/**
 * One HTTP(S) request on a fresh connection: `{ status, headers, text }`. `localAddress`
 * picks the client's source address (any of 127.0.0.0/8 on Linux).
 */
export function request(url, { method = "GET", headers = {}, body, localAddress } = {}) {
  const u = new URL(url);
  const lib = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method, headers, localAddress, agent: false, timeout: 30000 }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: no answer within 30 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Opens a WebSocket on `url` (https) by hand and resolves with the text of the first frame
 * the server sends; the socket is closed after it.
 */
export function firstWebSocketFrame(url) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = https.request(u, {
      agent: false,
      timeout: 30000,
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": randomBytes(16).toString("base64") },
    });
    req.on("response", (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
    req.on("timeout", () => req.destroy(new Error("no WebSocket frame within 30 s")));
    req.on("error", reject);
    req.on("upgrade", (res, socket, head) => {
      let buf = head;
      const tryFrame = () => {
        if (buf.length < 2) return;
        let len = buf[1] & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        if (buf.length < at + len) return;
        socket.destroy();
        resolve(buf.subarray(at, at + len).toString());
      };
      socket.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        tryFrame();
      });
      socket.on("error", reject);
      tryFrame();
    });
    req.end();
  });
}

/** A form-encoded POST (the GMS REST API); `{ status, headers, text, json }`. */
export async function postForm(url, fields, opts = {}) {
  const r = await request(url, {
    ...opts,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(opts.headers || {}) },
    body: new URLSearchParams(fields).toString(),
  });
  let json;
  try {
    json = JSON.parse(r.text);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/**
 * `count` Chinwag nodes, each with its own data directory, sharing one CometD key file (as
 * every node of a deployment must). `cometdToml` goes in each node's [cometd] table,
 * `serverToml` in its [server] table (with its node_id), `extraToml` after them (further
 * tables). The balancer reaches them at
 * `upstreams` ("127.0.0.1:port").
 */
export async function startNodes(count, { cometdToml = "", serverToml = "", extraToml = "" } = {}) {
  const dir = tempDir("nodes");
  const keyFile = join(dir, "cometd.key");
  writeFileSync(keyFile, randomBytes(32).toString("base64") + "\n", { mode: 0o600 });
  const nodes = [];
  const toml = (i) => `key_file = "${keyFile}"\n${cometdToml}\n\n[server]\nnode_id = ${i + 1}\n${serverToml}\n${extraToml}`;
  try {
    for (let i = 0; i < count; i++) {
      nodes.push(await startServer({ extraToml: toml(i) }));
    }
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw e;
  }
  return {
    nodes,
    upstreams: nodes.map((n) => `127.0.0.1:${n.port}`),
    /** Starts node `i` again (after it stopped or was killed) on its port and data dir. */
    async restart(i) {
      const { port, dir: nodeDir } = nodes[i];
      nodes[i] = await startServer({ port, dir: nodeDir, extraToml: toml(i) });
      return nodes[i];
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      nodes.forEach((n) => n.cleanup());
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A throw-away redis-server on a free loopback port (no persistence), for nodes sharing a
 * store; `stop()` ends it by its PID. `url` is what `[store] url` takes.
 */
export async function startRedis() {
  const dir = tempDir("redis");
  const port = await freePort();
  const proc = await startProcess("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { ports: [port], what: "redis-server" });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function listening(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

/**
 * Starts `cmd args` in the foreground as this user and waits until it listens on every one
 * of `ports`. `stop()` sends SIGTERM to its PID and waits for the exit (SIGKILL after 10 s).
 */
export async function startProcess(cmd, args, { ports = [], what = cmd } = {}) {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  const exited = new Promise((r) => proc.once("exit", r));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    const t = setTimeout(() => proc.kill("SIGKILL"), 10000);
    await exited;
    clearTimeout(t);
  };
  try {
    await until(async () => {
      if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode}): ${log}`);
      for (const p of ports) if (!(await listening(p))) return false;
      return true;
    }, 20000, `${what} to listen`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { proc, pid: proc.pid, stop, log: () => log };
}

/** Every `name=value` attribute and flag of a Set-Cookie value, lower-cased names. */
export function cookieAttributes(setCookie) {
  return setCookie.split(";").slice(1).map((a) => a.trim().split("=")[0].toLowerCase()).filter(Boolean);
}

/** Runs `cmd args` to completion; throws with its output when it fails. */
export function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"] }).toString();
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${e.stdout}${e.stderr}`);
  }
}

/** Whether a user exists (HAProxy's `user haproxy`). */
export function userExists(name) {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** nginx with the shipped recipe in front of `upstreams`; files under `dir`. */
export async function startNginx(dir, upstreams, cert) {
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
