// Shared kit of the console browser tests: the real binary (plus, until merge, the stand-in
// in front of it), Chromium, a customer speaking GMS REST from node, and console page
// helpers (sign in, start work, read what the transcript shows).
import { mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer, until, SERVICE } from "./harness.mjs";
import { startStandin, STANDIN_ID, STANDIN_PASSWORD } from "./console-standin.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const OUTPUT = join(here, "output");
mkdirSync(OUTPUT, { recursive: true });
export { until };

/** The binary, the stand-in and a browser, for one test file. */
export async function startAll(extraToml = "") {
  const server = await startServer({ extraToml });
  const standin = await startStandin(server.base);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  return {
    server, standin, browser,
    async stop() {
      await browser.close();
      await standin.close();
      await server.stop();
      server.cleanup();
    },
  };
}

/** A customer on GMS REST. */
export class Customer {
  constructor(base, service = SERVICE) {
    this.rest = `${base}/genesys/2/chat/${service}`;
  }
  async post(path, fields) {
    const r = await fetch(this.rest + path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    const json = await r.json();
    if (json.statusCode !== 0) throw new Error(`${path}: ${JSON.stringify(json)}`);
    return json;
  }
  async start({ nickname = "Carla", subject = "Billing", email = "carla@example.com", userData = {} } = {}) {
    const fields = { nickname, subject, emailAddress: email, userId: "", secureKey: "", alias: "" };
    for (const [k, v] of Object.entries(userData)) fields[`userData[${k}]`] = v;
    const j = await this.post("/", fields);
    this.creds = { userId: j.userId, secureKey: j.secureKey, alias: j.alias };
    this.chatId = j.chatId;
    return this;
  }
  op(name, fields = {}) {
    return this.post(`/${this.chatId}/${name}`, { ...this.creds, ...fields });
  }
  send(message) {
    return this.op("send", { message });
  }
  typing(message) {
    return this.op("startTyping", { message });
  }
  stopTyping() {
    return this.op("stopTyping");
  }
  async transcript() {
    const j = await this.op("refresh", { transcriptPosition: "1" });
    return j.messages || [];
  }
}

/**
 * A console page: new context, watches page errors and CSP reports, signs in through the form
 * and (unless told not to) starts work and goes ready.
 */
export async function openConsole(all, { ready = true, signIn = true } = {}) {
  const context = await all.browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource|WebSocket connection/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.goto(all.standin.consoleUrl);
  if (signIn) {
    await page.fill("#signin-id", STANDIN_ID);
    await page.fill("#signin-password", STANDIN_PASSWORD);
    await page.click("#signin-submit");
    await page.waitForSelector("#work:not([hidden])");
  }
  if (ready) await goReady(page);
  return { context, page, problems };
}

/** Starts work if needed and selects Ready. */
export async function goReady(page) {
  if (await page.isVisible("#start-work")) await page.click("#start-work");
  await page.waitForSelector("#state:not([hidden])");
  await page.selectOption("#state", "");
  await until(async () => (await page.$eval("#state", (s) => s.classList.contains("ready"))), 5000, "ready");
}

/** The panel (tabpanel) of a chat, found through its tab. */
export async function panelOf(page, chatId) {
  const tab = page.locator(`.tab[data-chat="${chatId}"]`);
  await tab.waitFor();
  const id = await tab.getAttribute("aria-controls");
  return page.locator(`#${id}`);
}

/** Every transcript line a chat's panel shows: [{index, kind, text}]. */
export async function lines(page, chatId) {
  const panel = await panelOf(page, chatId);
  return panel.locator(".transcript .line").evaluateAll((els) =>
    els.map((e) => ({ index: Number(e.dataset.index), kind: e.dataset.kind, text: e.querySelector(".text").textContent })));
}

/** The texts of a chat's Message lines, in order. */
export async function messages(page, chatId) {
  return (await lines(page, chatId)).filter((l) => l.kind === "Message").map((l) => l.text);
}

/** Accepts the offer of `chatId` through its card's Accept button. */
export async function acceptOffer(page, chatId) {
  const card = page.locator(`.offer[data-chat="${chatId}"]`);
  await card.waitFor({ timeout: 10000 });
  await card.getByRole("button", { name: "Accept" }).click();
  await page.locator(`.tab[data-chat="${chatId}"]`).waitFor();
}

/** Fails when indexes repeat or skip (each index shown at most once, ascending). */
export function assertOnceInOrder(ls) {
  const idx = ls.map((l) => l.index);
  for (let i = 1; i < idx.length; i++) {
    if (idx[i] <= idx[i - 1]) throw new Error(`index ${idx[i]} after ${idx[i - 1]}: ${idx}`);
  }
}

export const shot = (page, name) => page.screenshot({ path: join(OUTPUT, `console-${name}.png`), fullPage: true });
