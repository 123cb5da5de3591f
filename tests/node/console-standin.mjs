// STAND-IN, to be deleted at merge: until the binary serves /console and the session
// endpoints (helpers web-serve and console-auth), this small server plays their part for
// the console tests. It serves web/console/ under /console/ with the contract's CSP, answers
// POST/DELETE /agent/v1/session[/demo] itself with a fake cookie, enforces the contract's
// cookie + X-Chinwag-Csrf rules, and proxies every other /agent/v1 request (HTTP and the
// WebSocket upgrade, piped raw) to the real binary with the demo agent's bearer token.
import http from "node:http";
import net from "node:net";
import { readFile } from "node:fs/promises";
import { join, dirname, extname, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { AGENT_TOKEN } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const CONSOLE_DIR = join(here, "..", "..", "web", "console");
export const STANDIN_ID = "demo";
export const STANDIN_PASSWORD = "stand-in-password";
const COOKIE = "chinwag_session=standin";
const CSP = "default-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; require-trusted-types-for 'script'";
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml" };

const hasCookie = (req) => (req.headers.cookie || "").split(/;\s*/).includes(COOKIE);
const error = (res, status, code, message) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { code, message } }));
};

/** Starts the stand-in on a free port in front of `upstream` (the binary's base URL). */
export async function startStandin(upstream) {
  const up = new URL(upstream);
  const sockets = new Set();
  let blocked = false;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === "/console") {
      res.writeHead(301, { location: "/console/" });
      return res.end();
    }
    if (url.pathname.startsWith("/console/")) return serveConsole(url.pathname, res);
    if (!url.pathname.startsWith("/agent/v1/")) return error(res, 404, "not_found", "no such endpoint");
    const unsafe = req.method !== "GET" && req.method !== "HEAD";
    if (url.pathname === "/agent/v1/session" || url.pathname === "/agent/v1/session/demo") {
      const body = await readBody(req);
      if (req.method === "DELETE" && url.pathname === "/agent/v1/session") {
        res.writeHead(204, { "set-cookie": `${COOKIE.split("=")[0]}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict` });
        return res.end();
      }
      if (req.method !== "POST") return error(res, 405, "method_not_allowed", "POST or DELETE");
      if (url.pathname === "/agent/v1/session") {
        let creds = {};
        try { creds = JSON.parse(body || "{}"); } catch { return error(res, 400, "bad_request", "bad JSON"); }
        if (creds.id !== STANDIN_ID || creds.password !== STANDIN_PASSWORD) return error(res, 401, "bad_credentials", "wrong id or password");
      }
      const me = await fetch(`${upstream}/agent/v1/me`, { headers: { authorization: `Bearer ${AGENT_TOKEN}` } });
      res.writeHead(me.status, { "content-type": "application/json", "set-cookie": `${COOKIE}; Path=/; HttpOnly; SameSite=Strict` });
      return res.end(await me.text());
    }
    if (!hasCookie(req)) return error(res, 401, "unauthorized", "no session");
    if (unsafe && req.headers["x-chinwag-csrf"] !== "1") return error(res, 403, "forbidden", "missing X-Chinwag-Csrf");
    const headers = { ...req.headers, host: up.host, authorization: `Bearer ${AGENT_TOKEN}` };
    delete headers.cookie;
    const pr = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    pr.on("error", () => error(res, 502, "unavailable", "upstream failed"));
    req.pipe(pr);
  });

  server.on("upgrade", (req, client, head) => {
    if (blocked) {
      client.end("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    if (!hasCookie(req) || !req.url.startsWith("/agent/v1/events")) {
      client.end("HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    const upstreamSock = net.connect(Number(up.port), up.hostname, () => {
      const lines = [`GET ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i];
        if (/^(cookie|host|authorization)$/i.test(k)) continue;
        lines.push(`${k}: ${req.rawHeaders[i + 1]}`);
      }
      lines.push(`Host: ${up.host}`, `Authorization: Bearer ${AGENT_TOKEN}`, "", "");
      upstreamSock.write(lines.join("\r\n"));
      if (head?.length) upstreamSock.write(head);
      upstreamSock.pipe(client);
      client.pipe(upstreamSock);
    });
    const pair = { client, upstreamSock };
    sockets.add(pair);
    const drop = () => {
      sockets.delete(pair);
      client.destroy();
      upstreamSock.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstreamSock.on("error", drop).on("close", drop);
  });

  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    consoleUrl: `${base}/console/`,
    /** Live event-stream sockets (each a browser socket piped to the binary). */
    streams: () => sockets.size,
    /** While on, event-stream handshakes are refused (503), as during a network outage. */
    block(on) {
      blocked = on;
    },
    /** Cuts every proxied event stream without a close frame, as a network drop would. */
    cutStreams() {
      for (const { client, upstreamSock } of [...sockets]) {
        client.destroy();
        upstreamSock.destroy();
      }
    },
    close: () => new Promise((r) => { for (const p of sockets) { p.client.destroy(); p.upstreamSock.destroy(); } server.close(r); server.closeAllConnections?.(); }),
  };
}

async function serveConsole(pathname, res) {
  let rel = pathname.replace(/^\/console\/?/, "") || "index.html";
  rel = normalize(rel);
  if (rel.startsWith("..") || rel.includes("\0")) return error(res, 404, "not_found", "no such file");
  try {
    const bytes = await readFile(join(CONSOLE_DIR, rel));
    res.writeHead(200, {
      "content-type": TYPES[extname(rel)] || "application/octet-stream",
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
      "cache-control": "no-cache",
    });
    res.end(bytes);
  } catch {
    error(res, 404, "not_found", "no such file");
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let s = "";
    req.on("data", (d) => { s += d; if (s.length > 65536) reject(new Error("too large")); });
    req.on("end", () => resolve(s));
    req.on("error", reject);
  });
}
