// Hostile text from the other side: markup is shown as text, never run; only http(s) URLs
// become links (with a safe rel), a javascript: URL stays text, in messages and pushed URLs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startRig, openHost, startChat, until, OUTPUT } from "./widget-harness.mjs";

let rig;
before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig?.close();
});

const SCRIPT = `<script>window.pwned = 1</script>`;
const IMG = `<img src=x onerror="window.pwned = 2">`;
const JS_URL = `javascript:window.pwned=3`;

test("markup from the agent is text, and only http(s) URLs are links", async () => {
  const context = await rig.browser.newContext();
  const { page, problems } = await openHost(context, rig.hostUrl({ transport: "websocket" }));
  await startChat(page, { first: `<b>Jo</b>` });
  const chatId = await rig.agent.acceptNext();
  for (const text of [SCRIPT, IMG, JS_URL, `see https://example.com/a?b=1&c=<x>. or ${JS_URL}`]) await rig.agent.say(chatId, text);
  await rig.agent.call("POST", `/chats/${chatId}/push-url`, { url: "https://example.com/pushed" }).catch(() => {});
  await rig.agent.call("POST", `/chats/${chatId}/push-url`, { url: JS_URL }).catch(() => {});

  const log = page.locator("[role=log]");
  await until(async () => (await log.locator(".cw-theirs").count()) === 4, 10000, "the four messages");
  const texts = await log.locator(".cw-theirs .cw-text").allTextContents();
  assert.deepEqual(texts.slice(0, 3), [SCRIPT, IMG, JS_URL]);
  assert.equal(await log.locator("script, img, b").count(), 0, "no element made from the text");
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.pwned), undefined);

  const links = await log.locator("a").evaluateAll((as) => as.map((a) => ({ href: a.getAttribute("href"), rel: a.rel, text: a.textContent })));
  const hrefs = links.map((l) => l.href);
  assert.ok(hrefs.includes("https://example.com/a?b=1&c="), `the https URL is a link: ${JSON.stringify(links)}`);
  assert.ok(hrefs.every((h) => h.startsWith("https://")), `only https links: ${hrefs}`);
  for (const l of links) assert.equal(l.rel, "noopener noreferrer nofollow");
  const pushed = await page.evaluate(() => [...document.querySelector(".chinwag-widget").shadowRoot.querySelectorAll("[role=log] .cw-notice")].map((p) => p.textContent));
  assert.ok(pushed.some((p) => p.endsWith(": https://example.com/pushed")), `pushed: ${pushed}`);
  assert.ok(pushed.includes(`Demo Agent: ${JS_URL}`), `a pushed javascript: URL is shown as text: ${pushed}`);
  await page.screenshot({ path: join(OUTPUT, "widget-xss.png") });
  assert.deepEqual(problems, []);
  await context.close();
});
