// The console never loses a message: a reload while the customer keeps writing, and a cut
// event stream (refused while down, so the console must refetch) with messages sent
// meanwhile; every message is shown exactly once, in order, and the banner says so. The
// console is opened through the fault proxy, which cuts and refuses its event stream.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAll, Customer, openConsole, panelOf, messages, lines, acceptOffer, assertOnceInOrder, shot, until } from "./console-kit.mjs";
import { sleep } from "./harness.mjs";

let all, con;
before(async () => {
  all = await startAll({ proxy: true });
  con = await openConsole(all);
});
after(async () => {
  await con?.context.close();
  await all?.stop();
});

const range = (p, a, b) => Array.from({ length: b - a + 1 }, (_, i) => `${p}${a + i}`);

test("a reload while customers write resumes with no gap, no duplicate, and unread counts kept", async () => {
  const { page } = con;
  const cust = await new Customer(all.server.base).start({ nickname: "Rita" });
  await acceptOffer(page, cust.chatId);
  const other = await new Customer(all.server.base).start({ nickname: "Otto" });
  await acceptOffer(page, other.chatId);
  await page.locator(`.tab[data-chat="${cust.chatId}"]`).click();
  await other.send("o1");
  for (const m of range("r", 1, 3)) await cust.send(m);
  await until(async () => (await messages(page, cust.chatId)).length === 3, 5000, "the first messages");
  // The agent's own line arrives twice (POST answer and stream): shown once.
  const box = (await panelOf(page, cust.chatId)).locator("textarea");
  await box.fill("agent line");
  await box.press("Enter");
  await until(async () => (await messages(page, cust.chatId)).includes("agent line"), 5000, "the agent's line");
  await until(async () => (await page.title()).startsWith("(1) "), 5000, "Otto's first unread");
  const sending = (async () => {
    for (const m of range("r", 4, 20)) {
      await cust.send(m);
      if (m === "r8" || m === "r12") await other.send(m.replace("r", "o"));
      await sleep(15);
    }
  })();
  await page.reload();
  await sending;
  const want = [...range("r", 1, 3), "agent line", ...range("r", 4, 20)];
  await until(async () => (await messages(page, cust.chatId).catch(() => [])).length >= want.length, 10000, "every message after the reload");
  await sleep(300);
  assert.deepEqual(await messages(page, cust.chatId), want);
  assertOnceInOrder(await lines(page, cust.chatId));
  assert.deepEqual(await messages(page, other.chatId), ["o1", "o8", "o12"]);
  assertOnceInOrder(await lines(page, other.chatId));
  // The chat in front stays in front; the other keeps its unread count, news included.
  assert.equal(await page.locator(`.tab[data-chat="${cust.chatId}"]`).getAttribute("aria-selected"), "true");
  await until(async () => (await page.locator(`.tab[data-chat="${other.chatId}"] .badge`).textContent()) === "3", 5000, "Otto's unread count after the reload");
  await until(async () => (await page.title()).startsWith("(3) "), 5000, "three unread in the title");
  for (const c of [cust, other]) {
    await page.locator(`.tab[data-chat="${c.chatId}"]`).click();
    const panel = await panelOf(page, c.chatId);
    await panel.getByRole("button", { name: "End chat" }).click();
    await panel.getByRole("button", { name: "Close tab" }).click();
  }
  assert.deepEqual(con.problems, []);
});

test("a cut stream with messages sent meanwhile: banner, then each message once", async () => {
  const { page } = con;
  const cust = await new Customer(all.server.base).start({ nickname: "Sam" });
  await acceptOffer(page, cust.chatId);
  await cust.send("before the cut");
  await until(async () => (await messages(page, cust.chatId)).length === 1, 5000, "the first message");

  all.proxy.refuseUpgrades(true);
  all.proxy.cutUpgrades();
  await until(async () => /Reconnecting/.test(await page.locator("#banner").textContent()), 5000, "the banner");
  assert.equal(await page.locator("#banner").getAttribute("role"), "alert");
  assert.ok(await page.locator("#banner").isVisible());
  for (const m of range("s", 1, 10)) await cust.send(m);
  await shot(page, "reconnecting");
  await sleep(1500); // a few refused reconnects
  assert.deepEqual(await messages(page, cust.chatId), ["before the cut"], "nothing can arrive while the stream is down");
  all.proxy.refuseUpgrades(false);
  await until(async () => (await page.locator("#banner").textContent()) === "", 15000, "the banner to go");
  await until(async () => (await messages(page, cust.chatId)).length === 11, 5000, "the messages sent meanwhile");
  await sleep(300);
  assert.deepEqual(await messages(page, cust.chatId), ["before the cut", ...range("s", 1, 10)]);

  // A second cut in the middle of a stream of messages (no refusal: it reconnects at once).
  const sending = (async () => {
    for (const m of range("t", 1, 30)) {
      await cust.send(m);
      await sleep(10);
    }
  })();
  await sleep(100);
  all.proxy.cutUpgrades();
  await sending;
  await until(async () => (await messages(page, cust.chatId)).length === 41, 10000, "every message across the second cut");
  await sleep(300);
  assert.deepEqual(await messages(page, cust.chatId), ["before the cut", ...range("s", 1, 10), ...range("t", 1, 30)]);
  assertOnceInOrder(await lines(page, cust.chatId));
  assert.deepEqual(con.problems, []);
});
