// The demo shop in real headless Chromium, served by the real binary at `/` (the harness
// configures only the demo agent, so `demo = "auto"` is on): it loads under its strict CSP
// without a violation, has its landmarks and the console link, fits a 320 px phone screen
// without sideways scrolling, and axe finds no serious or critical WCAG 2.1 AA issue.
// Screenshots go to $CHINWAG_TEST_OUTPUT (default: <tmp>/chinwag-test-output).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";
import { startServer } from "./harness.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const OUT = process.env.CHINWAG_TEST_OUTPUT || join(tmpdir(), "chinwag-test-output");
let server, browser;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  server = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  server?.cleanup();
});

/** Opens `/` at a viewport, collecting CSP violations reported by the page. */
async function openDemo(viewport) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const violations = [];
  page.on("console", (m) => {
    // Not those of code the test evaluates in the page (axe-core, whose location has no URL):
    // axe sets an inline style, which the page's CSP rightly refuses.
    if (/Content Security Policy/i.test(m.text()) && m.location().url !== "") violations.push(m.text());
  });
  const res = await page.goto(`${server.base}/`, { waitUntil: "load" });
  assert.equal(res.status(), 200);
  return { context, page, violations };
}

test("the demo page loads under its CSP with its landmarks and the console link", async () => {
  const { context, page, violations } = await openDemo({ width: 1280, height: 800 });
  for (const role of ["banner", "navigation", "main", "contentinfo"]) {
    assert.equal(await page.getByRole(role).count(), 1, role);
  }
  const link = page.getByRole("link", { name: "Open the agent console (signed in as the demo agent)" });
  assert.equal(await link.getAttribute("href"), "/console/#demo");
  const script = page.locator('script[type="module"][src="/widget/chinwag.js"]');
  assert.equal(await script.getAttribute("data-service"), "customer-support");
  // The stylesheet applied (served as text/css under style-src 'self').
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, "rgb(251, 248, 243)");
  await page.screenshot({ path: join(OUT, "web-demo-desktop.png"), fullPage: true });
  assert.deepEqual(violations, []);
  await context.close();
});

test("the demo page fits a phone and axe finds no serious or critical issue", async () => {
  for (const viewport of [{ width: 320, height: 640 }, { width: 1280, height: 800 }]) {
    const { context, page, violations } = await openDemo(viewport);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no sideways scrolling at ${viewport.width} px (overflow ${overflow})`);
    const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`), [], `at ${viewport.width} px`);
    if (viewport.width === 320) await page.screenshot({ path: join(OUT, "web-demo-phone.png"), fullPage: true });
    assert.deepEqual(violations, []);
    await context.close();
  }
});
