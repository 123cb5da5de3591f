// The widget for everyone: axe finds no serious or critical issue closed or open; keyboard
// use (opening focuses the input, Esc closes and returns focus, Tab can leave); a 320 px phone
// screen; reduced motion; theming and strings from the page; the launcher loads the rest only
// on click and stays under 10 KB gzip.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join, dirname } from "node:path";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import AxeBuilder from "@axe-core/playwright";
import { startRig, openHost, startChat, say, until, OUTPUT } from "./widget-harness.mjs";

const widgetDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "web", "widget");
let rig;
before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig?.close();
});

async function axe(page, what) {
  // The panel fades in (160 ms): colours read mid-animation fail contrast, so let it end first.
  // (A shadow root's animations are not in the document's list: ask each root too.)
  await page.evaluate(async () => {
    const roots = [document, ...[...document.querySelectorAll(".chinwag-widget")].map((h) => h.shadowRoot).filter(Boolean)];
    const all = roots.flatMap((r) => r.getAnimations());
    await Promise.all(all.map((a) => a.finished.catch(() => {})));
  });
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), [], `axe, ${what}`);
}

/** What has focus, looking into the widget's shadow root. */
const focused = (page) =>
  page.evaluate(() => {
    const a = document.activeElement;
    if (a?.classList.contains("chinwag-widget")) {
      const inner = a.shadowRoot.activeElement;
      if (!inner) return "widget";
      return `widget:${inner.name ? `${inner.tagName}#${inner.name}` : inner.className || inner.tagName}`;
    }
    return a?.id || a?.tagName;
  });

test("axe finds no serious or critical issue, closed, on the form, and chatting", async () => {
  const context = await rig.browser.newContext();
  const { page, problems } = await openHost(context, rig.hostUrl({ transport: "websocket" }));
  assert.deepEqual(problems, []); // axe itself applies inline styles, which the host's CSP refuses
  await axe(page, "closed");
  await page.locator(".cw-launcher").click();
  await page.getByLabel("First name").waitFor();
  await axe(page, "registration form");
  await page.getByRole("button", { name: "Start chat" }).click();
  await page.locator(".cw-error[role=alert]", { hasText: "Please fill in this field." }).waitFor();
  await axe(page, "form error");
  await page.getByLabel("First name").fill("Ann");
  await page.getByLabel("Last name").fill("Lee");
  await page.getByRole("button", { name: "Start chat" }).click();
  await page.getByText("Waiting for an agent").waitFor();
  await axe(page, "queued");
  const chatId = await rig.agent.acceptNext();
  await rig.agent.say(chatId, "Hello Ann, https://example.com/help");
  await say(page, "Hi");
  await page.locator("[role=log] .cw-mine").waitFor();
  await axe(page, "chatting");
  await page.getByRole("button", { name: "End chat" }).click();
  await page.getByText("The chat has ended.").waitFor();
  await axe(page, "ended");
  await context.close();
});

test("keyboard: opening focuses the input, Esc closes and returns focus, Tab leaves", async () => {
  const context = await rig.browser.newContext();
  const { page } = await openHost(context, rig.hostUrl({ transport: "rest" }));
  await page.locator("#host-button").focus();
  await page.keyboard.press("Tab");
  assert.equal(await focused(page), "widget:cw-launcher");
  await page.keyboard.press("Enter");
  await until(async () => (await focused(page)) === "widget:INPUT#firstName", 5000, `first field focused, got ${await focused(page)}`);
  assert.equal(await page.locator(".cw-launcher").getAttribute("aria-expanded"), "true");
  await page.keyboard.press("Escape");
  assert.equal(await focused(page), "widget:cw-launcher");
  assert.equal(await page.locator(".cw-panel").isVisible(), false);
  assert.equal(await page.locator(".cw-launcher").getAttribute("aria-expanded"), "false");

  // Chatting: opening focuses the message input; Tab goes through the panel and out of it.
  await startChat(page);
  await page.getByLabel("Type your message").waitFor();
  await page.keyboard.press("Escape");
  assert.equal(await focused(page), "widget:cw-launcher");
  await page.keyboard.press("Enter");
  await until(async () => (await focused(page)) === "widget:cw-input", 5000, "the message input focused").catch(async (e) => {
    throw new Error(`${e.message}: ${await focused(page)}`);
  });
  const seen = [];
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    const f = await focused(page);
    seen.push(f);
    if (!f.startsWith("widget")) break;
  }
  assert.ok(!seen.at(-1).startsWith("widget"), `Tab leaves the widget: ${seen}`);
  await context.close();
});

test("fits a 320 px screen, honours reduced motion, takes colours, strings and fields from the page", async () => {
  const context = await rig.browser.newContext({ viewport: { width: 320, height: 568 }, reducedMotion: "reduce" });
  const { page, problems } = await openHost(context, rig.hostUrl({ transport: "rest", strings: "fr", fields: "nickname,email", "color-primary": "#7a1f5c" }));
  assert.equal(await page.locator(".cw-launcher").textContent(), "Discuter avec nous");
  assert.equal(await page.locator(".cw-launcher").evaluate((b) => getComputedStyle(b).backgroundColor), "rgb(122, 31, 92)");
  await page.locator(".cw-launcher").click();
  await page.getByRole("button", { name: "Commencer" }).waitFor();
  assert.deepEqual(await page.locator(".cw-field label").allTextContents(), ["Name", "Email"]);
  const box = await page.locator(".cw-panel").boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 320 && box.y >= 0, `panel inside the screen: ${JSON.stringify(box)}`);
  assert.equal(await page.locator(".cw-panel").evaluate((p) => getComputedStyle(p).animationName), "none");
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 320, "no horizontal scroll");
  await page.screenshot({ path: join(OUTPUT, "widget-phone-form.png") });
  await page.getByLabel("Name").fill("Kim");
  await page.getByRole("button", { name: "Commencer" }).click();
  await page.getByLabel("Type your message").waitFor();
  await page.screenshot({ path: join(OUTPUT, "widget-phone-chat.png") });
  assert.deepEqual(problems, []);
  assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
  await context.close();
});

test("the launcher is small and loads the rest only on click", async () => {
  const launcherBytes = ["chinwag.js", "keys.js"].reduce((n, f) => n + gzipSync(readFileSync(join(widgetDir, f)), { level: 9 }).length, 0);
  assert.ok(launcherBytes <= 10240, `launcher ${launcherBytes} B gzip`);
  const context = await rig.browser.newContext();
  const loaded = [];
  context.on("request", (r) => {
    const m = r.url().match(/\/widget\/([\w.-]+)$/);
    if (m) loaded.push(m[1]);
  });
  const { page } = await openHost(context, rig.hostUrl({ transport: "websocket" }));
  await page.waitForTimeout(300);
  assert.deepEqual([...loaded].sort(), ["chinwag.js", "keys.js", "widget.css"]);
  await page.locator(".cw-launcher").click();
  await page.getByLabel("First name").waitFor();
  assert.ok(loaded.includes("panel.js") && loaded.includes("bayeux.js"), `the rest loads on click: ${loaded}`);
  await page.screenshot({ path: join(OUTPUT, "widget-open-form.png") });
  await context.close();
});
