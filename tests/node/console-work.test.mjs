// The agent console at work, in Chromium over the real binary: sign-in, ready, an offer
// with its countdown accepted, messages both ways, the customer's typing preview, the
// customer panel, canned responses, push URL, files, two chats in tabs with unread counts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAll, Customer, openConsole, panelOf, messages, lines, acceptOffer, assertOnceInOrder, shot, until } from "./console-kit.mjs";

let all, con;
before(async () => {
  all = await startAll();
  con = await openConsole(all);
});
after(async () => {
  await con?.context.close();
  await all?.stop();
});

test("an offer arrives with a countdown, is accepted, and messages go both ways", async () => {
  const { page } = con;
  const cust = await new Customer(all.server.base).start({
    nickname: "Carla", subject: "Invoice 42", email: "carla@example.com",
    userData: { PageURL: "https://shop.example/cart", Tier: "gold" },
  });
  const card = page.locator(`.offer[data-chat="${cust.chatId}"]`);
  await card.waitFor();
  await until(async () => /Carla — Invoice 42/.test(await card.textContent()), 5000, "the offer's customer name");
  const left = Number((await card.locator(".countdown").textContent()).match(/(\d+) s left/)[1]);
  assert.ok(left > 0 && left <= 30, `countdown ${left}`);
  assert.match(await page.title(), /1 offer/);
  await shot(page, "offer");
  await acceptOffer(page, cust.chatId);
  assert.equal(await card.count(), 0, "the card is gone once accepted");

  await cust.send("Hello, my invoice is wrong");
  await until(async () => (await messages(page, cust.chatId)).includes("Hello, my invoice is wrong"), 5000, "the customer's message");
  const panel = await panelOf(page, cust.chatId);
  await panel.locator("textarea").fill("Let me check that for you.");
  await panel.locator("textarea").press("Enter");
  await until(async () => (await cust.transcript()).some((m) => m.type === "Message" && m.text === "Let me check that for you."), 5000, "the agent's message at the customer");
  await until(async () => (await messages(page, cust.chatId)).includes("Let me check that for you."), 5000, "the agent's own line");

  // Customer panel: name, e-mail, subject, every userData key.
  const side = await panel.locator(".customer").textContent();
  for (const s of ["Carla", "carla@example.com", "Invoice 42", "PageURL", "https://shop.example/cart", "Tier", "gold"]) assert.ok(side.includes(s), `panel shows ${s}: ${side}`);

  // Typing preview: shown from startTyping's text, cleared by stopTyping.
  await cust.typing("I paid tw");
  await until(async () => /Carla is typing: I paid tw/.test(await panel.locator(".preview").textContent()), 5000, "the typing preview");
  await shot(page, "work");
  await cust.stopTyping();
  await until(async () => (await panel.locator(".preview").textContent()) === "", 5000, "the preview to clear");

  // Canned responses are inserted, not sent.
  await panel.locator("select.canned").selectOption({ label: "Greeting" });
  assert.match(await panel.locator("textarea").inputValue(), /^Hello, thank you for contacting us/);
  assert.ok(!(await cust.transcript()).some((m) => /thank you for contacting/.test(m.text || "")), "canned text was not sent");
  await panel.locator("textarea").fill("");

  // Push URL.
  await panel.locator("input[type=url]").fill("https://help.example/invoices");
  await panel.getByRole("button", { name: "Push" }).click();
  await until(async () => (await cust.transcript()).some((m) => m.type === "PushUrl" && m.text === "https://help.example/invoices"), 5000, "the pushed URL");
  assertOnceInOrder(await lines(page, cust.chatId));
  assert.deepEqual(con.problems, []);
});
