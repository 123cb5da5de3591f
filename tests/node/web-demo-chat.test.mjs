// The README's promise, end to end in Chromium: the binary with no configuration at all
// serves the demo shop at `/`; a customer (one browser context) starts a chat in its widget,
// and an agent (another context) follows the shop's console link, `/console/#demo`, which
// signs in as the demo agent and goes ready, accepts the offer, and the two chat both ways.
// Screenshots go to tests/node/output/web-demo-chat-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { BIN, freePort, until } from "./harness.mjs";
import { OUTPUT, messages, panelOf } from "./console-kit.mjs";
import { startChat, say, transcript } from "./widget-harness.mjs";

let server, browser;

/** `chinwag serve` with no --config: only the listen address and a data dir of its own. */
async function startDefaultServer() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "chinwag-demo-chat-"));
  const proc = spawn(BIN, ["serve", "--listen", `127.0.0.1:${port}`, "--data-dir", join(dir, "data")], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "warn" },
  });
  let log = "";
  proc.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  await until(async () => {
    if (proc.exitCode !== null) throw new Error(`chinwag exited: ${log}`);
    return fetch(`${base}/health`).then((r) => r.ok, () => false);
  }, 20000, "chinwag to start");
  return {
    base,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A page that records uncaught errors and CSP reports. */
async function watchedPage(context, problems) {
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  return page;
}

before(async () => {
  server = await startDefaultServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("demo shop widget and the console from its link chat both ways", async () => {
  const problems = [];
  const shopContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const shop = await watchedPage(shopContext, problems);
  await shop.goto(`${server.base}/`);
  await shop.locator(".cw-launcher").waitFor({ state: "visible" });
  await startChat(shop, { first: "Dora", last: "Demo", email: "dora@example.com", subject: "Which tea?" });
  await until(async () => (await shop.locator(".chinwag-widget").evaluate((w) => w.shadowRoot.textContent)).includes("Waiting for an agent"), 10000, "the widget to say the chat waits");
  await shop.screenshot({ path: join(OUTPUT, "web-demo-chat-waiting.png") });

  // The agent follows the shop's own link, in a browser context of its own.
  const href = await shop.getByRole("link", { name: /Open the agent console/ }).getAttribute("href");
  assert.equal(href, "/console/#demo");
  const agentContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const agent = await watchedPage(agentContext, problems);
  await agent.goto(new URL(href, server.base).href);
  await agent.waitForSelector("#work:not([hidden])");
  assert.equal(await agent.textContent("#agent-name"), "Demo Agent");
  const card = agent.locator(".offer");
  await card.waitFor({ timeout: 15000 });
  assert.match(await card.textContent(), /Dora/);
  const chatId = await card.getAttribute("data-chat");
  await agent.screenshot({ path: join(OUTPUT, "web-demo-chat-offer.png") });
  await card.getByRole("button", { name: "Accept" }).click();
  const panel = await panelOf(agent, chatId);

  await say(shop, "Hello, is Lamplight caffeine-free?");
  await until(async () => (await messages(agent, chatId)).includes("Hello, is Lamplight caffeine-free?"), 10000, "the customer's line in the console");
  await panel.locator("textarea").fill("Yes, it is a rooibos blend.");
  await panel.locator("textarea").press("Enter");
  await until(async () => (await transcript(shop)).messages.includes("Yes, it is a rooibos blend."), 10000, "the agent's line in the widget");
  await say(shop, "Thanks!");
  await until(async () => (await messages(agent, chatId)).includes("Thanks!"), 10000, "the customer's second line");
  // The widget shows its own line when the server's event for it arrives, which may be after
  // the console's.
  await until(async () => (await transcript(shop)).messages.includes("Thanks!"), 10000, "the customer's second line in the widget");

  assert.deepEqual((await transcript(shop)).messages, ["Hello, is Lamplight caffeine-free?", "Yes, it is a rooibos blend.", "Thanks!"]);
  assert.deepEqual(await messages(agent, chatId), ["Hello, is Lamplight caffeine-free?", "Yes, it is a rooibos blend.", "Thanks!"]);
  await shop.screenshot({ path: join(OUTPUT, "web-demo-chat-customer.png") });
  await agent.screenshot({ path: join(OUTPUT, "web-demo-chat-agent.png") });
  assert.deepEqual(problems, []);
  await shopContext.close();
  await agentContext.close();
});
