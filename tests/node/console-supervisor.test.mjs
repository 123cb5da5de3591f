// The supervisor view in Chromium over the real binary: only a supervisor sees it (an
// agent's console gets 403 and shows nothing); it lists queues, agents and live chats and
// refreshes itself; "Monitor" opens a chat read only (the customer's GMS answers say
// monitored, the agent's console shows the eye), "Stop monitoring" leaves silently, "Take
// over" makes the supervisor the chat's agent (the agent's console says so and goes read
// only, the customer hears the supervisor), while an agent leaving from another client is
// told apart from a take-over; axe finds nothing serious in the view. A sign-in whose
// probe of the view gets no answer (or a 503) asks again; a failing refresh alerts once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAll, Customer, openConsole, goReady, panelOf, messages, acceptOffer, shot, until, teamToml, axeSerious, statusOf, AGENT_PASSWORD } from "./console-kit.mjs";

let all, demo, sue;
before(async () => {
  all = await startAll({ extraToml: teamToml() });
  demo = await openConsole(all);
  sue = await openConsole(all, { id: "sue", ready: false });
});
after(async () => {
  await demo?.context.close();
  await sue?.context.close();
  await all?.stop();
});

const monitored = async (cust) => (await cust.op("refresh", { transcriptPosition: "1" })).monitored;

/** The text of every cell of a supervisor table's body, row by row. */
async function rows(page, table) {
  return page.locator(`#${table} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
}

/** The live-chat row of a chat. */
const chatRow = (page, chatId) => page.locator(`#sup-chats tbody tr[data-chat="${chatId}"]`);

let active, waiting;

test("only a supervisor sees the view: queues, agents and live chats, refreshed", async () => {
  assert.equal(await demo.page.isVisible("#views"), false, "an agent has no supervisor view");
  await sue.page.waitForSelector("#views:not([hidden])");

  active = await new Customer(all.server.base).start({ nickname: "Ava", subject: "Delivery" });
  await acceptOffer(demo.page, active.chatId);
  await demo.page.selectOption("#state", "Coffee"); // the next chat waits in the queue
  await until(async () => (await statusOf(all, "demo-agent-token")).reason === "Coffee", 5000, "not ready on the server");
  waiting = await new Customer(all.server.base).start({ nickname: "Walt", subject: "Returns" });

  await sue.page.click("#view-supervisor");
  await sue.page.waitForSelector("#supervisor:not([hidden])");
  assert.equal(await sue.page.isVisible("#desk"), false);
  await until(async () => (await rows(sue.page, "sup-chats")).length === 2, 8000, "both chats listed");
  const queues = await rows(sue.page, "sup-queues");
  const def = queues.find((r) => r[0] === "default");
  assert.ok(def, `the default queue: ${JSON.stringify(queues)}`);
  assert.equal(def[1], "1", "one chat waiting");
  assert.match(def[3], /^\d+ s$/, "its longest wait");
  const agents = await rows(sue.page, "sup-agents");
  const demoRow = agents.find((r) => r[0].includes("(demo)"));
  assert.deepEqual(demoRow.slice(1), ["Not ready", "Coffee", "1 / 100"], JSON.stringify(agents));
  assert.ok(agents.some((r) => r[0] === "Bob Builder (bob)" && r[1] === "Logged out"));
  const chats = await rows(sue.page, "sup-chats");
  const ava = chats.find((r) => r[0] === "Ava");
  assert.deepEqual([ava[1], ava[2], ava[3], ava[5], ava[6]], ["Delivery", "default", "Active", "Demo Agent", "No"]);
  const walt = chats.find((r) => r[0] === "Walt");
  assert.deepEqual([walt[3], walt[5]], ["Waiting", "—"]);

  // Tables are labelled and headed.
  const captions = await sue.page.$$eval("#supervisor caption", (cs) => cs.map((c) => c.textContent));
  assert.deepEqual(captions, ["Queues", "Agents", "Live chats"]);
  assert.equal(await sue.page.locator("#supervisor th[scope=row]").count(), 2 + 3 + 2);
  assert.deepEqual(await axeSerious(sue.page), [], "axe on the supervisor view");
  await shot(sue.page, "supervisor");

  // It refreshes by itself: a third customer appears without a click.
  const third = await new Customer(all.server.base).start({ nickname: "Theo" });
  await until(async () => (await chatRow(sue.page, third.chatId).count()) === 1, 8000, "the new chat after a refresh");
  await third.op("disconnect");
  await sue.page.click("#sup-refresh");
  await until(async () => (await chatRow(sue.page, third.chatId).count()) === 0, 8000, "the ended chat gone");
  assert.deepEqual(sue.problems, []);
});

test("monitor: read only for the supervisor, monitored for the customer, an eye for the agent", async () => {
  const demoPanel = await panelOf(demo.page, active.chatId);
  assert.equal(await demoPanel.locator(".watched").isVisible(), false);
  assert.equal(await monitored(active), false);

  await chatRow(sue.page, active.chatId).getByRole("button", { name: "Monitor" }).click();
  const panel = await panelOf(sue.page, active.chatId);
  await until(async () => /monitoring this chat/.test(await panel.locator(".chat-state").textContent()), 5000, "monitoring");
  assert.equal(await sue.page.isVisible("#desk"), true, "the chat is in front");
  assert.equal(await panel.locator("textarea").isVisible(), false, "no composer while monitoring");
  assert.equal(await panel.getByRole("button", { name: "Take over" }).isVisible(), true);
  assert.equal(await panel.getByRole("button", { name: "Stop monitoring" }).isVisible(), true);
  assert.equal(await monitored(active), true, "the customer's refresh says monitored");

  await active.send("Where is my parcel?");
  await until(async () => (await messages(sue.page, active.chatId)).includes("Where is my parcel?"), 5000, "the supervisor sees the chat");
  await until(async () => demoPanel.locator(".watched").isVisible(), 8000, "the agent sees the eye");
  assert.equal(await demoPanel.locator(".watched").textContent(), "A supervisor is monitoring");
  await shot(demo.page, "supervisor-agent-monitored");
  await shot(sue.page, "supervisor-monitor");

  // Stop monitoring: silent, and no longer monitored.
  const before = (await active.transcript()).length;
  await panel.getByRole("button", { name: "Stop monitoring" }).click();
  await until(async () => (await monitored(active)) === false, 5000, "monitored false again");
  assert.equal((await active.transcript()).length, before, "no transcript event for monitoring");
  await active.send("hello?");
  await until(async () => !(await demoPanel.locator(".watched").isVisible()), 8000, "the eye gone");
  await panel.getByRole("button", { name: "Close tab" }).click();
  assert.deepEqual(sue.problems, []);
  assert.deepEqual(demo.problems, []);
});

test("take over from the monitored tab: the agent's console goes read only, the customer hears the supervisor", async () => {
  await sue.page.click("#view-supervisor");
  await chatRow(sue.page, active.chatId).getByRole("button", { name: "Monitor" }).click();
  const panel = await panelOf(sue.page, active.chatId);
  await panel.getByRole("button", { name: "Take over" }).click();
  await until(async () => panel.locator("textarea").isVisible(), 5000, "the composer after take-over");

  const demoPanel = await panelOf(demo.page, active.chatId);
  await until(async () => /Taken over by a supervisor/.test(await demoPanel.locator(".chat-state").textContent()), 8000, "the agent's console says so");
  assert.equal(await demoPanel.locator("textarea").isDisabled(), true, "read only");
  assert.match(await demo.page.locator(`.tab[data-chat="${active.chatId}"]`).textContent(), /taken over/);
  await shot(demo.page, "supervisor-taken-over");

  // A supervisor has every queue's canned responses, this chat's queue first.
  const groups = await panel.locator("select.canned optgroup").evaluateAll((gs) => gs.map((g) => g.label));
  assert.deepEqual(groups, ["default (this chat's queue)", "billing"]);
  await panel.locator("textarea").fill("Hi Ava, I am the supervisor. Your parcel ships today.");
  await panel.locator("textarea").press("Enter");
  await until(async () => (await active.transcript()).some((m) => m.type === "Message" && m.from?.nickname === "Sue Supervisor" && /parcel ships today/.test(m.text)), 5000, "the customer hears the supervisor");
  const t = await active.transcript();
  assert.ok(t.some((m) => m.type === "ParticipantJoined" && m.from?.nickname === "Sue Supervisor"), "the supervisor joined visibly");
  assert.ok(t.some((m) => m.type === "ParticipantLeft" && m.from?.nickname === "Demo Agent"), "the agent left");
  await active.send("Thanks!");
  await until(async () => (await messages(sue.page, active.chatId)).includes("Thanks!"), 5000, "the supervisor's chat goes on");
  await shot(sue.page, "supervisor-took-over");
  await panel.getByRole("button", { name: "End chat" }).click();
  await demoPanel.getByRole("button", { name: "Close tab" }).click();
  assert.deepEqual(sue.problems, []);
  assert.deepEqual(demo.problems, []);
});

test("take over a waiting chat straight from the overview", async () => {
  await sue.page.click("#view-supervisor");
  await chatRow(sue.page, waiting.chatId).getByRole("button", { name: "Take over" }).click();
  const panel = await panelOf(sue.page, waiting.chatId);
  await until(async () => sue.page.isVisible("#desk"), 5000, "the chats in front");
  await panel.locator("textarea").fill("Hello Walt, thanks for waiting.");
  await panel.locator("textarea").press("Enter");
  await until(async () => (await waiting.transcript()).some((m) => m.type === "Message" && m.from?.nickname === "Sue Supervisor"), 5000, "the customer hears the supervisor");
  await sue.page.click("#view-supervisor");
  await until(async () => {
    const r = await rows(sue.page, "sup-chats");
    const walt = r.find((x) => x[0] === "Walt");
    return walt && walt[3] === "Active" && walt[5] === "Sue Supervisor";
  }, 8000, "the chat is Sue's in the overview");
  assert.equal(await demo.page.locator(`.offer[data-chat="${waiting.chatId}"]`).count(), 0);
  assert.deepEqual(sue.problems, []);
});

test("a probe without an answer or with a 503 is asked again; a failing refresh alerts once", async () => {
  const c = await openConsole(all, { id: "sue", ready: false, signIn: false });
  const { page } = c;
  try {
    // The sign-in's probe finds the network down, its first retry a 503; then the server answers.
    const answers = [];
    let plan = ["abort", "503"];
    await page.route("**/agent/v1/supervisor", async (route) => {
      const what = plan.length ? plan.shift() : "serve";
      answers.push(what);
      if (what === "abort") await route.abort("connectionreset");
      else if (what === "503") await route.fulfill({ status: 503, contentType: "application/json", body: '{"error":{"code":"unavailable","message":"Try again later"}}' });
      else await route.continue();
    });
    await page.fill("#signin-id", "sue");
    await page.fill("#signin-password", AGENT_PASSWORD);
    await page.click("#signin-submit");
    await page.waitForSelector("#work:not([hidden])");
    await page.waitForSelector("#views:not([hidden])", { timeout: 10000 });
    assert.deepEqual(answers.slice(0, 3), ["abort", "503", "serve"], "asked again after each failure");

    // Refreshes that keep failing: the alert is written once, not at every refresh.
    await page.click("#view-supervisor");
    await until(async () => (await page.locator("#sup-chats tbody tr").count()) > 0 || answers.length > 3, 8000, "the overview drawn");
    await page.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.supErrorWrites = 0;
      new MutationObserver((records) => (w.supErrorWrites += records.length))
        .observe(document.getElementById("sup-error"), { childList: true, characterData: true, subtree: true });
    });
    plan = Array(100).fill("503");
    const failedBefore = answers.length;
    await until(async () => /Could not refresh the overview: Try again later/.test(await page.textContent("#sup-error")), 8000, "the refresh's failure shown");
    await until(async () => answers.length >= failedBefore + 3, 12000, "three failed refreshes");
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).supErrorWrites), 1, "the alert written once");
    assert.equal(await page.isVisible("#supervisor"), true, "the view stays");
    plan = [];
    await until(async () => (await page.textContent("#sup-error")) === "", 8000, "the alert cleared by a good refresh");
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).supErrorWrites), 2, "cleared once");
    assert.deepEqual(c.problems, []);
  } finally {
    await c.context.close();
  }
});

test("an agent who leaves from another client is told so, not that a supervisor took over", async () => {
  await goReady(demo.page);
  const cust = await new Customer(all.server.base).start({ nickname: "Lena", subject: "Elsewhere" });
  await acceptOffer(demo.page, cust.chatId);
  await cust.send("Are you there?");
  const panel = await panelOf(demo.page, cust.chatId);
  await until(async () => (await messages(demo.page, cust.chatId)).includes("Are you there?"), 5000, "the message");
  // The same agent leaves through the agent API with its token, outside this page.
  const r = await fetch(`${all.server.base}/agent/v1/chats/${cust.chatId}/leave`, { method: "POST", headers: { authorization: "Bearer demo-agent-token" } });
  assert.equal(r.status, 200, await r.text());
  await until(async () => /You left this chat \(from another window\)/.test(await panel.locator(".chat-state").textContent()), 8000, "the console says where it was left");
  assert.doesNotMatch(await panel.locator(".chat-state").textContent(), /supervisor/i);
  assert.equal(await panel.locator("textarea").isDisabled(), true, "read only");
  assert.match(await demo.page.locator(`.tab[data-chat="${cust.chatId}"]`).textContent(), /left/);
  await shot(demo.page, "left-elsewhere");
  await demo.page.selectOption("#state", "Coffee");
  await cust.op("disconnect");
  await panel.getByRole("button", { name: "Close tab" }).click();
  assert.deepEqual(demo.problems, []);
});
