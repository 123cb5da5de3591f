// Callback-polling (JSONP) driven by the official CometD client inside real headless
// Chromium: the page comes from one origin, Chinwag is another, so only script tags work.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync, existsSync } from "node:fs";
import { join, dirname, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer, Agent, CHANNEL, until, freePort } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
let server, pages, browser;

const PAGE = (cometdUrl) => `<!doctype html><meta charset="utf-8"><title>jsonp</title>
<script type="module">
import { CometD } from "/cometd/cometd.js";
const c = new CometD();
c.unregisterTransport("websocket");
c.unregisterTransport("long-polling");
c.configure({ url: ${JSON.stringify(cometdUrl)} });
window.notes = [];
window.transport = null;
c.addListener(${JSON.stringify(CHANNEL)}, (m) => window.notes.push(m.data));
c.handshake((h) => {
  window.transport = c.getTransport() && c.getTransport().type;
  window.handshake = h.successful;
  if (h.successful) c.publish(${JSON.stringify(CHANNEL)}, { operation: "requestChat", nickname: "Browser" });
});
window.send = (secureKey, message) => c.publish(${JSON.stringify(CHANNEL)}, { operation: "sendMessage", secureKey, message });
</script>`;

before(async () => {
  const port = await freePort();
  // The page's origin is listed: JSONP requests carry no Origin, so Chinwag checks the
  // origin of their Referer (see the test of a foreign page below).
  server = await startServer({ extraToml: `[services.customer-support]\ncors_origins = ["http://127.0.0.1:${port}"]\n` });
  pages = http.createServer((req, res) => {
    if (req.url === "/") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end(PAGE(server.cometd));
    }
    const file = normalize(join(here, "node_modules", "cometd", req.url.replace(/^\/cometd\//, "")));
    if (req.url.startsWith("/cometd/") && file.startsWith(join(here, "node_modules", "cometd")) && existsSync(file)) {
      res.writeHead(200, { "content-type": "text/javascript" });
      return res.end(readFileSync(file));
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((r) => pages.listen(port, "127.0.0.1", r));
  pages.url = `http://127.0.0.1:${port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
  pages?.close();
  await server.stop();
  server.cleanup();
});

test("callback-polling chat in Chromium with the official CometD client", async () => {
  const page = await browser.newPage();
  const scriptTypes = new Set();
  page.on("response", (r) => r.url().startsWith(server.cometd) && scriptTypes.add(r.headers()["content-type"]));
  // Not "load": a held callback-polling connect is a pending <script> that delays the load event.
  await page.goto(pages.url, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => window.handshake === true, null, { timeout: 15000 });
  assert.equal(await page.evaluate(() => window.transport), "callback-polling");
  const key = (await page.waitForFunction(() => window.notes.find((n) => n.secureKey)?.secureKey, null, { timeout: 15000 })).jsonValue();
  const secureKey = await key;

  const agent = new Agent(server.base);
  await agent.ready();
  const chatId = await agent.acceptNext();
  await agent.say(chatId, "hello browser");
  await page.waitForFunction(() => window.notes.some((n) => n.messages.some((e) => e.text === "hello browser")), null, { timeout: 15000 });

  await page.evaluate((k) => window.send(k, "hello agent"), secureKey);
  await until(async () => (await agent.view(chatId)).events.some((e) => e.text === "hello agent"), 15000, "browser message at the agent");
  const idx = await page.evaluate(() => window.notes.flatMap((n) => n.messages.map((e) => e.index)));
  for (let i = 1; i < idx.length; i++) assert.ok(idx[i] > idx[i - 1], `in order, once: ${idx}`);
  assert.deepEqual([...scriptTypes], ["text/javascript;charset=UTF-8"]);
  await page.close();
});

test("a page of an origin the service does not list cannot start a chat over JSONP", async () => {
  // The same page, served from another port: another origin, not in cors_origins.
  const foreign = http.createServer((req, res) => pages.emit("request", req, res));
  const port = await freePort();
  await new Promise((r) => foreign.listen(port, "127.0.0.1", r));
  const page = await browser.newPage();
  try {
    await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: "domcontentloaded" });
    await page.waitForFunction(() => window.handshake === false, null, { timeout: 15000 });
    const health = await (await fetch(`${server.base}/health`)).json();
    assert.equal(health.open_sessions, 1, "only the first test's chat exists");
  } finally {
    await page.close();
    foreign.close();
  }
});
