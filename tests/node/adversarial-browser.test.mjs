// Cross-origin long-polling in real headless Chromium: a page on origin A (listed in the
// service's cors_origins) uses the official CometD client with `requestHeaders: {apikey}`
// on a service that requires an apikey, and chats with an agent. The CometD client falls
// back to callback-polling when a cross-origin long-poll fails (a bare `*` answered to a
// credentialed request, `apikey` not an allowed header); this test keeps callback-polling
// registered and asserts it was never used: the chat runs over long-polling throughout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync, existsSync } from "node:fs";
import { join, dirname, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer, Agent, until, freePort, uniqueTag } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const KEY = "browser-k3y";
const SERVICE = "guarded";
const CHANNEL = `/service/chatV2/${SERVICE}`;
let server, pages, browser;

const PAGE = (cometdUrl, tag) => `<!doctype html><meta charset="utf-8"><title>long-polling</title>
<script type="module">
import { CometD } from "/cometd/cometd.js";
const c = new CometD();
c.unregisterTransport("websocket");
c.configure({ url: ${JSON.stringify(cometdUrl)}, requestHeaders: { apikey: ${JSON.stringify(KEY)} } });
window.notes = [];
window.transports = [];
c.addListener("/meta/handshake", (m) => window.transports.push(c.getTransport() && c.getTransport().type));
c.addListener("/meta/connect", () => window.transports.push(c.getTransport() && c.getTransport().type));
c.addListener(${JSON.stringify(CHANNEL)}, (m) => window.notes.push(m.data));
c.handshake((h) => {
  window.handshake = h.successful;
  // The apikey goes only as a request header: a fallback transport could not send it.
  if (h.successful) c.publish(${JSON.stringify(CHANNEL)}, { operation: "requestChat", nickname: "Page", userData: { tag: ${JSON.stringify(tag)} } });
});
window.transport = () => c.getTransport() && c.getTransport().type;
window.send = (secureKey, message) => c.publish(${JSON.stringify(CHANNEL)}, { operation: "sendMessage", secureKey, message });
</script>`;

let tag;
before(async () => {
  const port = await freePort();
  tag = uniqueTag();
  server = await startServer({
    extraToml: `[services.${SERVICE}]\napikey = "${KEY}"\ncors_origins = ["http://127.0.0.1:${port}"]\n`,
  });
  pages = http.createServer((req, res) => {
    if (req.url === "/") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end(PAGE(server.cometd, tag));
    }
    const root = join(here, "node_modules", "cometd");
    const file = normalize(join(root, req.url.replace(/^\/cometd\//, "")));
    if (req.url.startsWith("/cometd/") && file.startsWith(root) && existsSync(file)) {
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
  await server?.stop();
  server?.cleanup();
});

test("a listed origin chats over cross-origin long-polling with an apikey header", async () => {
  const page = await browser.newPage();
  const requests = [];
  page.on("request", (r) => r.url().startsWith(server.cometd) && requests.push(r.method()));
  try {
    await page.goto(pages.url, { waitUntil: "domcontentloaded" });
    await page.waitForFunction(() => window.handshake === true, null, { timeout: 15000 });
    const secureKey = await (
      await page.waitForFunction(() => window.notes.find((n) => n.secureKey)?.secureKey, null, { timeout: 15000 })
    ).jsonValue();

    const agent = new Agent(server.base);
    await agent.ready();
    const chatId = await agent.acceptWhere((v) => v.user_data.tag === tag);
    await agent.say(chatId, "hello page");
    await page.waitForFunction(() => window.notes.some((n) => (n.messages || []).some((e) => e.text === "hello page")), null, {
      timeout: 15000,
    });
    await page.evaluate((k) => window.send(k, "hello agent"), secureKey);
    await until(async () => (await agent.view(chatId)).events.some((e) => e.text === "hello agent"), 15000, "the page's message at the agent");

    assert.equal(await page.evaluate(() => window.transport()), "long-polling");
    const seen = await page.evaluate(() => window.transports);
    assert.ok(seen.length >= 2, `handshake and connects seen: ${seen}`);
    assert.deepEqual([...new Set(seen)], ["long-polling"], `only long-polling was used: ${seen}`);
    assert.ok(requests.length > 0 && requests.every((m) => m === "POST" || m === "OPTIONS"), `no JSONP GET: ${requests}`);
    const errors = await page.evaluate(() => window.notes.filter((n) => n.statusCode !== 0));
    assert.deepEqual(errors, [], "no error notification");
    const idx = await page.evaluate(() => window.notes.flatMap((n) => (n.messages || []).map((e) => e.index)));
    for (let i = 1; i < idx.length; i++) assert.ok(idx[i] > idx[i - 1], `in order, once: ${idx}`);
  } finally {
    await page.close();
  }
});
