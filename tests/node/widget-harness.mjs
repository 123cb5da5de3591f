// Rig for the customer widget's browser tests: the real chinwag binary behind a TCP proxy that
// can cut every socket and refuse new ones, and a static server on another origin holding the
// host page (with a strict CSP); the widget's files come from the binary's /widget/ (or, with
// CHINWAG_WIDGET_FROM=static, from the host's own server, to test web/widget unembedded).
import http from "node:http";
import net from "node:net";
import { readFile, mkdir } from "node:fs/promises";
import { join, dirname, extname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer, freePort, until, Agent } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const widgetDir = join(here, "..", "..", "web", "widget");
export const OUTPUT = join(here, "output");

/**
 * Where the widget's files come from. "binary" (default): chinwag's own /widget/ route, as a
 * real embed loads them: module scripts of another origin, fetched with CORS. They are
 * fetched from the binary directly, not through the cutter, so a cut that a test makes for
 * the chat's traffic does not also stop the widget's lazily loaded modules. "static": the
 * host page's own server reads them from web/widget.
 */
export const WIDGET_FROM = process.env.CHINWAG_WIDGET_FROM || "binary";

const TYPES = { ".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml" };

/** A TCP proxy to `port` whose sockets a test can cut, and which can refuse new ones. */
export async function startCutter(port) {
  const live = new Set();
  let refusing = false;
  let refuseUpgrades = false;
  const server = net.createServer((client) => {
    if (refusing) return client.destroy();
    const up = net.connect(port, "127.0.0.1");
    live.add(client);
    live.add(up);
    const drop = () => {
      client.destroy();
      up.destroy();
      live.delete(client);
      live.delete(up);
    };
    client.on("error", drop).on("close", drop);
    up.on("error", drop).on("close", drop);
    client.once("data", (first) => {
      if (refuseUpgrades && /^upgrade:\s*websocket/im.test(first.toString("latin1"))) return drop();
      up.write(first);
      client.pipe(up);
    });
    up.pipe(client);
  });
  const own = await freePort();
  await new Promise((r) => server.listen(own, "127.0.0.1", r));
  return {
    port: own,
    base: `http://127.0.0.1:${own}`,
    /** Cuts every open socket; with `refuse`, new connections are closed at once too. */
    cut(refuse = true) {
      refusing = refuse;
      for (const s of live) s.destroy();
      live.clear();
    },
    restore() {
      refusing = false;
    },
    /** While on, WebSocket upgrades are closed unanswered (a proxy without WebSocket). */
    refuseWebSockets(on) {
      refuseUpgrades = on;
    },
    close: () => new Promise((r) => { for (const s of live) s.destroy(); server.close(r); }),
  };
}

/**
 * The host site: /host.html (query: transport, lang, fields) and /widget/* when static.
 * `serverBase`: where the widget talks to (data-server); `binaryBase`: the binary itself.
 */
async function startSite(port, serverBase, binaryBase) {
  const origin = `http://127.0.0.1:${port}`;
  const widgetBase = WIDGET_FROM === "binary" ? `${binaryBase}/widget` : `${origin}/widget`;
  const widgetOrigin = new URL(widgetBase).origin;
  const wsServer = serverBase.replace(/^http/, "ws");
  const csp = [
    "default-src 'self'",
    `script-src 'self' ${widgetOrigin}`,
    `style-src 'self' ${widgetOrigin}`,
    `connect-src 'self' ${serverBase} ${wsServer}`,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
  ].join("; ");
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, origin);
    try {
      if (url.pathname === "/host.html") {
        const service = (url.searchParams.get("service") || "customer-support").replace(/[^\w-]/g, "");
        const attrs = [`data-server="${serverBase}"`, `data-service="${service}"`];
        for (const k of ["transport", "lang", "fields", "color-primary"]) {
          if (url.searchParams.has(k)) attrs.push(`data-${k}="${url.searchParams.get(k).replace(/[^\w,#-]/g, "")}"`);
        }
        const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="/host.js"></script></head><body><main><h1>A shop</h1><p>Welcome.</p>
<button id="host-button">A host button</button></main>
<script type="module" src="${widgetBase}/chinwag.js" ${attrs.join(" ")}></script></body></html>`;
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": csp, "cache-control": "no-store" });
        return res.end(body);
      }
      if (url.pathname === "/host.js") {
        res.writeHead(200, { "content-type": "text/javascript" });
        // Records CSP violations; `?strings=fr` on the page sets the widget's options before it loads.
        return res.end(`window.cspViolations=[];document.addEventListener('securitypolicyviolation',e=>window.cspViolations.push(e.violatedDirective+' '+e.blockedURI));
if (new URLSearchParams(location.search).get('strings')==='fr') window.ChinwagOptions={strings:{launcher:'Discuter avec nous',start:'Commencer',firstName:'Prénom'}};`);
      }
      const m = url.pathname.match(/^\/widget\/([\w.-]+)$/);
      if (m && WIDGET_FROM === "static") {
        const data = await readFile(join(widgetDir, m[1]));
        res.writeHead(200, {
          "content-type": TYPES[extname(m[1])] || "application/octet-stream",
          "access-control-allow-origin": "*",
          "cache-control": "no-cache",
        });
        return res.end(data);
      }
    } catch {
      // fall through to 404
    }
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return { origin, csp, widgetBase, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

/** Starts chinwag, the cutter in front of it and the host site; one per test file. */
/** `p`, or nothing once `ms` have passed (said on stderr). */
async function within(p, ms, what) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => {
      console.error(`${what}: not done in ${ms} ms; going on`);
      resolve(undefined);
    }, ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startRig({ extraToml = "" } = {}) {
  const sitePort = await freePort();
  const siteOrigin = `http://127.0.0.1:${sitePort}`;
  const server = await startServer({
    extraToml: `[services.customer-support]\ncors_origins = ["${siteOrigin}"]\n${extraToml}`,
  });
  const cutter = await startCutter(server.port);
  const site = await startSite(sitePort, cutter.base, server.base);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  const agent = new Agent(server.base);
  await agent.ready();
  await mkdir(OUTPUT, { recursive: true });
  return {
    server, cutter, site, browser, agent,
    widgetBase: site.widgetBase,
    hostUrl: (q = {}) => `${site.origin}/host.html?${new URLSearchParams(q)}`,
    // Chromium's close is bounded and the server is stopped whatever it did: a close that
    // hung once left the file to time out with its server still running.
    async close() {
      try {
        await within(browser.close(), 15000, "closing Chromium");
      } finally {
        await site.close();
        await cutter.close();
        await server.stop();
        server.cleanup();
      }
    },
  };
}

/** The agent's event stream, read in a page of its own: `events()` answers what came so far. */
export async function agentStream(rig) {
  const context = await rig.browser.newContext();
  const page = await context.newPage();
  const url = `${rig.server.base.replace(/^http/, "ws")}/agent/v1/events?token=demo-agent-token`;
  await page.evaluate((u) => new Promise((resolve, reject) => {
    window.got = [];
    const ws = new WebSocket(u);
    ws.onmessage = (e) => window.got.push(JSON.parse(e.data));
    ws.onopen = resolve;
    ws.onerror = reject;
  }), url);
  return { events: () => page.evaluate(() => window.got), close: () => context.close() };
}

/** A customer page with its console errors and CSP violations recorded. */
export async function openHost(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.locator(".cw-launcher").waitFor({ state: "visible" });
  return { page, problems };
}

/** Fills the registration form and starts a chat. */
export async function startChat(page, { first = "Joan", last = "Smith", email = "joan@example.com", subject = "Savings" } = {}) {
  await page.locator(".cw-launcher").click();
  await page.getByLabel("First name").fill(first);
  await page.getByLabel("Last name").fill(last);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Subject").fill(subject);
  await page.getByRole("button", { name: "Start chat" }).click();
}

/** Sends a message from the widget's composer. */
export async function say(page, text) {
  await page.getByLabel("Type your message").fill(text);
  await page.getByRole("button", { name: "Send" }).click();
}

/** The transcript's rendered event indexes and message texts. */
export function transcript(page) {
  return page.evaluate(() => {
    const root = document.querySelector(".chinwag-widget").shadowRoot;
    const log = root.querySelector("[role=log]");
    return {
      indexes: [...log.querySelectorAll("[data-index]")].map((e) => Number(e.dataset.index)),
      messages: [...log.querySelectorAll(".cw-msg .cw-text")].map((e) => e.textContent),
      html: log.innerHTML,
    };
  });
}

/** Agent-side texts of the customer's messages in `chatId`. */
export async function customerTexts(agent, chatId) {
  const view = await agent.view(chatId);
  return view.events.filter((e) => e.kind === "Message" && e.from.party_type === "Client").map((e) => e.text);
}

export { until };
