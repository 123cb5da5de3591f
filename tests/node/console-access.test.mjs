// The console's doors and manners: sign-in (wrong password, the #demo shortcut, sign-out),
// not ready with a reason, axe with no serious or critical violation on the sign-in and work
// screens, shortcuts (Ctrl+/ lists them, all with a modifier), the typing preview gone
// within 30 s, and the desktop notification (one tag per chat) and tone on news.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import AxeBuilder from "@axe-core/playwright";
import { startAll, Customer, openConsole, panelOf, acceptOffer, shot, until } from "./console-kit.mjs";

let all;
before(async () => {
  all = await startAll();
});
after(async () => {
  await all?.stop();
});

async function axe(page) {
  const r = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(", ")}`);
}

test("sign-in: a wrong password is refused in words, axe finds nothing serious", async () => {
  const con = await openConsole(all, { signIn: false, ready: false });
  const { page } = con;
  await page.waitForSelector("#signin:not([hidden])");
  assert.deepEqual(await axe(page), []);
  await page.fill("#signin-id", "demo");
  await page.fill("#signin-password", "wrong");
  await page.click("#signin-submit");
  await until(async () => (await page.textContent("#signin-error")) === "Wrong agent id or password.", 5000, "the error");
  assert.equal(await page.getAttribute("#signin-error", "role"), "alert");
  await shot(page, "signin");
  assert.deepEqual(await axe(page), []);
  assert.deepEqual(con.problems, []);
  await con.context.close();
});

test("#demo signs in as the demo agent and goes ready; sign-out returns to the form", async () => {
  const context = await all.browser.newContext();
  const page = await context.newPage();
  await page.goto(all.consoleUrl + "#demo");
  await page.waitForSelector("#work:not([hidden])");
  await until(async () => (await page.$eval("#state", (s) => s.classList.contains("ready"))), 5000, "ready");
  assert.equal(await page.textContent("#agent-name"), "Demo Agent");
  await page.click("#signout");
  await page.waitForSelector("#signin:not([hidden])");
  assert.equal(await page.textContent("#signin-error"), "You have signed out.");
  const me = await (await fetch(`${all.server.base}/agent/v1/me`, { headers: { authorization: "Bearer demo-agent-token" } })).json();
  assert.equal(me.logged_in, false, "signing out stops work: no more offers");
  await page.reload();
  await page.waitForSelector("#signin:not([hidden])");
  await context.close();
});

test("not ready takes a reason, and no offer arrives while not ready", async () => {
  const con = await openConsole(all);
  const { page } = con;
  await page.selectOption("#state", "Lunch");
  await until(async () => !(await page.$eval("#state", (s) => s.classList.contains("ready"))), 5000, "not ready");
  const values = await page.$$eval("#state option", (os) => os.map((o) => o.textContent));
  assert.ok(values.every((v) => v === "Ready" || /^Not ready: \S/.test(v)), `every not-ready option has a reason: ${values}`);
  const cust = await new Customer(all.server.base).start({ nickname: "Nora" });
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(await page.locator(".offer").count(), 0, "no offer while not ready");
  await page.reload();
  await page.waitForSelector("#state:not([hidden])");
  assert.equal(await page.inputValue("#state"), "Lunch", "the reason is the server's");
  // The answer to PUT /state is held back until the offer frame is in: a stale answer must
  // not wipe an offer the stream already brought.
  await page.route("**/agent/v1/state", async (route) => {
    const response = await route.fetch();
    await new Promise((r) => setTimeout(r, 500));
    await route.fulfill({ response });
  });
  await page.keyboard.press("Alt+R"); // ready again: the offer comes
  await page.locator(`.offer[data-chat="${cust.chatId}"]`).waitFor();
  await new Promise((r) => setTimeout(r, 1000)); // the held-back answer is in by now
  assert.equal(await page.locator(`.offer[data-chat="${cust.chatId}"]`).count(), 1, "the offer is still shown");
  await acceptOffer(page, cust.chatId);
  const panel = await panelOf(page, cust.chatId);
  await panel.getByRole("button", { name: "End chat" }).click();
  await panel.getByRole("button", { name: "Close tab" }).click();
  await con.context.close();
});

test("work screen: axe finds nothing serious; Ctrl+/ lists the shortcuts, each with a modifier", async () => {
  const con = await openConsole(all);
  const { page } = con;
  const cust = await new Customer(all.server.base).start({ nickname: "Axel", userData: { PageURL: "https://shop.example/" } });
  await page.locator(`.offer[data-chat="${cust.chatId}"]`).waitFor();
  assert.deepEqual(await axe(page), [], "with an offer");
  await page.keyboard.press("Alt+A"); // accept the oldest offer
  await page.locator(`.tab[data-chat="${cust.chatId}"]`).waitFor();
  await cust.send("Hi, see https://example.com/x");
  await until(async () => (await (await panelOf(page, cust.chatId)).locator(".line.msg").count()) === 1, 5000, "the message");
  assert.deepEqual(await axe(page), [], "with a chat open");
  await page.keyboard.press("Control+/");
  await page.waitForSelector("#shortcuts[open]");
  const keys = await page.$$eval("#shortcuts kbd", (ks) => ks.map((k) => k.textContent));
  assert.ok(keys.length >= 10);
  for (const k of keys) assert.match(k, /^(Ctrl|Alt)\+/, `shortcut ${k} uses a modifier`);
  await shot(page, "shortcuts");
  assert.deepEqual(await axe(page), [], "with the shortcuts open");
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.getElementById("shortcuts").open);
  // Typing a plain letter in the message box is text, never a shortcut.
  await page.keyboard.press("Alt+M");
  await page.keyboard.type("a");
  assert.equal(await (await panelOf(page, cust.chatId)).locator("textarea").inputValue(), "a");
  await page.keyboard.press("Alt+Shift+E"); // end the chat
  await until(async () => (await (await panelOf(page, cust.chatId)).locator(".chat-state").textContent()).includes("ended"), 5000, "ended");
  await page.keyboard.press("Alt+W");
  assert.equal(await page.locator(".tab").count(), 0);
  assert.deepEqual(con.problems, []);
  await con.context.close();
});

test("a desktop notification per chat (one tag) and a tone; the typing preview clears within 30 s", async () => {
  const context = await all.browser.newContext();
  await context.addInitScript(() => {
    window.__notes = [];
    window.__tones = 0;
    class FakeNotification {
      static permission = "default";
      static async requestPermission() { FakeNotification.permission = "granted"; return "granted"; }
      constructor(title, opts) { window.__notes.push({ title, tag: opts.tag, body: opts.body }); }
      addEventListener() {}
      close() {}
    }
    window.Notification = FakeNotification;
    document.hasFocus = () => false; // the agent is in another window
    const make = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () { window.__tones++; return make.call(this); };
  });
  const page = await context.newPage();
  await page.clock.install();
  await page.goto(all.consoleUrl + "#demo");
  await page.waitForSelector("#work:not([hidden])");
  await until(async () => (await page.$eval("#state", (s) => s.classList.contains("ready"))), 5000, "ready");
  // Sound needs a gesture: nothing plays until "Enable sound" is clicked.
  assert.equal(await page.textContent("#sound"), "Enable sound");
  await page.click("#sound");
  await until(async () => (await page.textContent("#sound")) === "Sound on", 5000, "sound on");
  await page.click("#notify");
  await until(async () => (await page.textContent("#notify")) === "Desktop notifications on", 5000, "notifications on");
  const cust = await new Customer(all.server.base).start({ nickname: "Nia" });
  await page.locator(`.offer[data-chat="${cust.chatId}"]`).waitFor();
  await until(async () => (await page.evaluate(() => window.__tones)) > 0, 5000, "a tone for the offer");
  await acceptOffer(page, cust.chatId);
  await cust.send("are you there?");
  await until(async () => (await page.evaluate(() => window.__notes.length)) >= 2, 5000, "the notifications");
  const notes = await page.evaluate(() => window.__notes);
  assert.deepEqual(new Set(notes.map((n) => n.tag)), new Set([`chinwag-chat-${cust.chatId}`]), "one tag per chat");
  assert.ok(notes.some((n) => n.body === "are you there?"));

  const panel = await panelOf(page, cust.chatId);
  await cust.typing("still typ");
  await until(async () => /still typ/.test(await panel.locator(".preview").textContent()), 5000, "the preview");
  await page.clock.fastForward(29000);
  assert.match(await panel.locator(".preview").textContent(), /still typ/, "still there at 29 s");
  await page.clock.fastForward(1500);
  await until(async () => (await panel.locator(".preview").textContent()) === "", 2000, "gone by 30 s");
  await context.close();
});
