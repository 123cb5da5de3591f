// Transfer, not-ready reasons and canned responses in the console, in Chromium over the real
// binary: the reasons and the canned responses come from the configuration (the chat's
// queue's group first); a missed offer shows the server's "Missed offer"; the transfer
// dialog (labelled, opened once however fast it is clicked, Esc closes it and gives focus
// back, errors in words) sends a chat to
// another agent, who accepts it and sees the whole transcript, and to a queue.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAll, Customer, openConsole, goReady, panelOf, messages, acceptOffer, shot, until, teamToml, statusOf, axeSerious } from "./console-kit.mjs";

let all, demo, bob;
before(async () => {
  all = await startAll({ extraToml: teamToml({ offerTimeoutSecs: 8 }) });
  demo = await openConsole(all);
  bob = await openConsole(all, { id: "bob", ready: false });
});
after(async () => {
  await demo?.context.close();
  await bob?.context.close();
  await all?.stop();
});

/** The customer's transcript as "type:nickname:text" lines. */
async function seen(cust) {
  return (await cust.transcript()).map((m) => `${m.type}:${m.from?.nickname ?? ""}:${m.text ?? ""}`);
}

test("not-ready reasons come from the server, and the reason is the server's", async () => {
  const { page } = demo;
  const options = await page.$$eval("#state option", (os) => os.map((o) => o.textContent));
  assert.deepEqual(options, ["Ready", "Not ready: Coffee", "Not ready: Coaching", "Not ready: Lunch"]);
  await page.selectOption("#state", "Coaching");
  await until(async () => (await statusOf(all, "demo-agent-token")).reason === "Coaching", 5000, "the reason on the server");
  assert.equal((await statusOf(all, "demo-agent-token")).ready, false);
  await page.reload();
  await page.waitForSelector("#state:not([hidden])");
  await until(async () => (await page.inputValue("#state")) === "Coaching", 5000, "the server's reason after a reload");
  await goReady(page);
  assert.equal((await statusOf(all, "demo-agent-token")).reason, null);
});

test("a missed offer: the server sets not ready with the reason \"Missed offer\"", async () => {
  const { page } = demo;
  const cust = await new Customer(all.server.base).start({ nickname: "Mia" });
  await page.locator(`.offer[data-chat="${cust.chatId}"]`).waitFor();
  await until(async () => (await page.inputValue("#state")) === "Missed offer", 15000, "Missed offer");
  assert.equal(await page.textContent("#state option:checked"), "Not ready: Missed offer");
  assert.equal((await statusOf(all, "demo-agent-token")).reason, "Missed offer");
  await shot(page, "supervisor-missed-offer");
  assert.equal(await page.locator(`.offer[data-chat="${cust.chatId}"]`).count(), 0, "the missed offer is gone");
  // Sue (who serves this queue too) has not declined it, so it waits for her, not for us.
  await cust.op("disconnect");
  await goReady(page);
  assert.equal((await statusOf(all, "demo-agent-token")).reason, null);
});

test("transfer to an agent: errors in words, then Bob accepts and sees the transcript", async () => {
  const { page } = demo;
  const cust = await new Customer(all.server.base).start({ nickname: "Tara", subject: "Refund" });
  await acceptOffer(page, cust.chatId);
  const panel = await panelOf(page, cust.chatId);

  // Canned responses from the configuration, this chat's queue first; inserted, not sent.
  const groups = await panel.locator("select.canned optgroup").evaluateAll((gs) => gs.map((g) => g.label));
  assert.equal(groups[0], "default (this chat's queue)");
  await panel.locator("select.canned").selectOption({ label: "Hello there" });
  assert.equal(await panel.locator("textarea").inputValue(), "Hello from the default queue.");
  await panel.locator("textarea").press("Enter");
  await cust.send("I want my money back");
  await until(async () => (await messages(page, cust.chatId)).length === 2, 5000, "both messages");

  // The dialog: labelled, Esc closes it and focus goes back to "Transfer…".
  // Two clicks before the dialog shows (it awaits its suggestions) open it once.
  const opener = panel.getByRole("button", { name: "Transfer…" });
  await opener.evaluate((btn) => {
    const w = /** @type {any} */ (window);
    w.modalsShown = 0;
    const show = HTMLDialogElement.prototype.showModal;
    HTMLDialogElement.prototype.showModal = function () {
      w.modalsShown++;
      return show.call(this);
    };
    btn.focus();
    btn.click();
    btn.click();
  });
  const dialog = page.getByRole("dialog", { name: "Transfer the chat" });
  await dialog.waitFor();
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).modalsShown), 1, "one opening at a time");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "transfer-queue");
  assert.deepEqual(await axeSerious(page), [], "axe with the transfer dialog open");
  await shot(page, "supervisor-transfer-dialog");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Transfer…");

  // Errors: a queue that does not exist, an unknown agent, an agent not working.
  await page.keyboard.press("Alt+T");
  await dialog.waitFor();
  await page.fill("#transfer-queue", "nowhere");
  await page.click("#transfer-submit");
  await until(async () => (await page.textContent("#transfer-error")) === "There is no such queue.", 5000, "no_such_queue");
  await page.check("#transfer-to-agent");
  await page.fill("#transfer-agent", "nobody");
  await page.click("#transfer-submit");
  await until(async () => (await page.textContent("#transfer-error")) === "There is no agent with that id.", 5000, "no_such_agent");
  await page.fill("#transfer-agent", "bob");
  await page.click("#transfer-submit");
  await until(async () => /not available/.test(await page.textContent("#transfer-error")), 5000, "agent_unavailable (Bob has not started work)");
  assert.equal(await panel.locator("textarea").isDisabled(), false, "a failed transfer leaves the chat as it was");

  // Bob starts work (not ready: a transfer to him needs no readiness) and gets it.
  await bob.page.click("#start-work");
  await bob.page.waitForSelector("#state:not([hidden])");
  await page.click("#transfer-submit");
  await dialog.waitFor({ state: "hidden" });
  await until(async () => (await panel.locator(".chat-state").textContent()) === "You transferred the chat to agent bob.", 5000, "transferred");
  const tab = page.locator(`.tab[data-chat="${cust.chatId}"]`);
  assert.match(await tab.textContent(), /\(transferred\)/);
  assert.equal(await panel.locator("textarea").isDisabled(), true);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Close tab", "focus goes to Close tab");
  await shot(page, "supervisor-transferred");

  await acceptOffer(bob.page, cust.chatId);
  await until(async () => (await messages(bob.page, cust.chatId)).join("|") === "Hello from the default queue.|I want my money back", 5000, "Bob sees the transcript");
  const bobPanel = await panelOf(bob.page, cust.chatId);
  const bobGroups = await bobPanel.locator("select.canned optgroup").evaluateAll((gs) => gs.map((g) => g.label));
  assert.deepEqual(bobGroups, ["billing"], "Bob's canned responses are his queue's");
  await bobPanel.locator("textarea").fill("Bob here, I can help.");
  await bobPanel.locator("textarea").press("Enter");
  await until(async () => (await seen(cust)).includes("Message:Bob Builder:Bob here, I can help."), 5000, "the customer hears from Bob");
  const t = await seen(cust);
  assert.ok(t.some((l) => l.startsWith("ParticipantLeft:Demo Agent")), `the customer saw the first agent leave: ${t}`);
  assert.ok(t.some((l) => l.startsWith("ParticipantJoined:Bob Builder")), `and Bob join: ${t}`);
  await tab.getByText(/Tara/).waitFor();
  await panel.getByRole("button", { name: "Close tab" }).click();
  assert.equal(await tab.count(), 0);
  await bobPanel.getByRole("button", { name: "End chat" }).click();
  await bobPanel.getByRole("button", { name: "Close tab" }).click();
  assert.deepEqual(demo.problems, []);
  assert.deepEqual(bob.problems, []);
});

test("transfer to a queue: the chat waits in it and goes to its agent", async () => {
  const { page } = demo;
  const cust = await new Customer(all.server.base).start({ nickname: "Quinn" });
  await acceptOffer(page, cust.chatId);
  const panel = await panelOf(page, cust.chatId);
  await panel.getByRole("button", { name: "Transfer…" }).click();
  assert.match(await page.textContent("#transfer-queue-hint"), /default/);
  await page.fill("#transfer-queue", "billing");
  await page.keyboard.press("Enter");
  await until(async () => (await panel.locator(".chat-state").textContent()) === "You transferred the chat to the queue billing.", 5000, "transferred");
  await goReady(bob.page); // Bob serves billing: the waiting chat is offered to him
  await acceptOffer(bob.page, cust.chatId);
  await cust.send("still there?");
  await until(async () => (await messages(bob.page, cust.chatId)).includes("still there?"), 5000, "Bob has the chat");
  assert.equal(await page.locator(`.offer[data-chat="${cust.chatId}"]`).count(), 0, "the demo agent (default queue) is not offered it");
  const bobPanel = await panelOf(bob.page, cust.chatId);
  await bobPanel.getByRole("button", { name: "End chat" }).click();
  await panel.getByRole("button", { name: "Close tab" }).click();
  await bob.page.selectOption("#state", "Lunch");
  assert.deepEqual(demo.problems, []);
  assert.deepEqual(bob.problems, []);
});
