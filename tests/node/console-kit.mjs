// Shared kit of the console browser tests: the real binary serving /console/ and signing
// agents in (the demo agent has a password made by `chinwag agent add`, and `#demo` signs in
// without one), optionally the fault proxy in front of it to cut the event stream, Chromium,
// a customer speaking GMS REST from node, and console page helpers (sign in, start work,
// read what the transcript shows).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer, until, SERVICE, BIN } from "./harness.mjs";
import { startProxy } from "./fault-proxy.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const OUTPUT = join(here, "output");
mkdirSync(OUTPUT, { recursive: true });
export { until };

/** The agent the console signs in as (the harness's demo agent), and its password. */
export const AGENT_ID = "demo";
export const AGENT_PASSWORD = "console-test-password";

let hashOnce = null;
/** The argon2id hash of AGENT_PASSWORD, written by `chinwag agent add` into a scratch file
 * (once per test file: every account of a test uses the same password). */
export function passwordHash() {
  hashOnce ??= makeHash();
  return hashOnce;
}

function makeHash() {
  const dir = mkdtempSync(join(tmpdir(), "chinwag-console-hash-"));
  try {
    const file = join(dir, "chinwag.toml");
    writeFileSync(file, "");
    execFileSync(BIN, ["agent", "add", "hash-only", "--config", file], { input: `${AGENT_PASSWORD}\n`, stdio: ["pipe", "ignore", "pipe"] });
    const m = readFileSync(file, "utf8").match(/^password_hash = "([^"]+)"$/m);
    if (!m) throw new Error("`chinwag agent add` wrote no password_hash");
    return m[1];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The binary and a browser, for one test file. With `proxy`, the console is opened through
 * the fault proxy (same origin for the page, its API calls and its event stream), so a test
 * can cut or refuse the event stream's WebSockets.
 */
export async function startAll({ extraToml = "", proxy = false } = {}) {
  const server = await startServer({ extraToml, agentToml: `password_hash = "${passwordHash()}"` });
  const front = proxy ? await startProxy(`127.0.0.1:${server.port}`) : null;
  const base = front ? front.url : server.base;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  return {
    server, proxy: front, browser,
    consoleUrl: `${base}/console/`,
    async stop() {
      await browser.close();
      await front?.close();
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
export async function openConsole(all, { ready = true, signIn = true, id = AGENT_ID, password = AGENT_PASSWORD } = {}) {
  const context = await all.browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource|WebSocket connection/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.goto(all.consoleUrl);
  if (signIn) {
    await page.fill("#signin-id", id);
    await page.fill("#signin-password", password);
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

/** Serious and critical axe violations (WCAG 2.x A and AA) on the page as it is. */
export async function axeSerious(page) {
  const { default: AxeBuilder } = await import("@axe-core/playwright");
  const r = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(", ")}`);
}

/**
 * A team beside the demo agent (who serves `default`): Bob serves `billing`, Sue supervises;
 * configured not-ready reasons and canned responses for both queues (billing's listed first). Every account signs in
 * with AGENT_PASSWORD.
 */
export function teamToml({ offerTimeoutSecs = 30 } = {}) {
  const hash = passwordHash();
  return `
[presence]
not_ready_reasons = ["Coffee", "Coaching", "Lunch"]

[queues.billing]
offer_timeout_secs = ${offerTimeoutSecs}
canned = [{ label = "Invoice sent", text = "Your invoice is on its way." }]

[queues.default]
offer_timeout_secs = ${offerTimeoutSecs}
canned = [
  { label = "Hello there", text = "Hello from the default queue." },
  { label = "Bye", text = "Goodbye from the default queue." },
]

[[agents]]
id = "bob"
name = "Bob Builder"
token = "bob-agent-token"
queues = ["billing"]
capacity = 3
password_hash = "${hash}"

[[agents]]
id = "sue"
name = "Sue Supervisor"
token = "sue-super-token"
queues = ["default"]
capacity = 5
role = "supervisor"
password_hash = "${hash}"
`;
}

/** The status of an account through its token (`GET /me`). */
export async function statusOf(all, token) {
  const r = await fetch(`${all.server.base}/agent/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  return r.json();
}
