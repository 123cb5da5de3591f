// The agent console at work, in Chromium over the real binary: sign-in, ready, an offer
// with its countdown accepted, messages both ways, the customer's typing preview, the
// customer panel, canned responses, push URL, files, two chats in tabs with unread counts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAll, Customer, openConsole, panelOf, messages, lines, acceptOffer, assertOnceInOrder, shot, until } from "./console-kit.mjs";

let all, con;
before(async () => {
  // The canned responses are the queue's, from the configuration.
  all = await startAll({ extraToml: '[queues.default]\ncanned = [{ label = "Greeting", text = "Hello, thank you for contacting us. How can I help you today?" }]\n' });
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
  await until(async () => /1 offer/.test(await page.title()), 5000, "the offer in the title");
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

test("files: the agent uploads one, the customer's arrives, both listed and downloadable", async () => {
  const { page } = con;
  const cust = await new Customer(all.server.base).start({ nickname: "Fay" });
  await acceptOffer(page, cust.chatId);
  const panel = await panelOf(page, cust.chatId);
  await panel.locator("input[type=file]").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("agent notes\n") });
  await panel.getByRole("button", { name: "Upload" }).click();
  await until(async () => (await panel.locator(".files li").count()) === 1, 5000, "the agent's file listed");

  const form = new FormData();
  for (const [k, v] of Object.entries(cust.creds)) form.append(k, v);
  form.append("userData[file-description]", "my receipt");
  form.append("file", new Blob(["customer receipt\n"], { type: "text/plain" }), "receipt.txt");
  const up = await (await fetch(`${cust.rest}/${cust.chatId}/file`, { method: "POST", body: form })).json();
  assert.equal(up.statusCode, 0, JSON.stringify(up));
  await until(async () => (await panel.locator(".files li").count()) === 2, 5000, "the customer's file listed");
  assert.match(await panel.locator(".files").textContent(), /receipt\.txt.*my receipt/s);
  const hrefs = await panel.locator(".files a").evaluateAll((as) => as.map((a) => a.href));
  const bodies = await page.evaluate(async (urls) => Promise.all(urls.map(async (u) => (await fetch(u)).text())), hrefs);
  assert.deepEqual(bodies, ["agent notes\n", "customer receipt\n"]);
  assert.ok((await messages(page, cust.chatId)).length === 0);
  assert.match((await lines(page, cust.chatId)).map((l) => l.text).join("|"), /sent a file: notes\.txt.*sent a file: receipt\.txt/);
  await panel.getByRole("button", { name: "End chat" }).click();
  await until(async () => (await panel.locator(".chat-state").textContent()).includes("ended"), 5000, "ended");
  await panel.getByRole("button", { name: "Close tab" }).click();
});

test("two chats in tabs: unread counts on the tab and in the title, cleared on view", async () => {
  const { page } = con;
  const a = await new Customer(all.server.base).start({ nickname: "Ann" });
  await acceptOffer(page, a.chatId);
  const b = await new Customer(all.server.base).start({ nickname: "Ben" });
  await acceptOffer(page, b.chatId);
  const tabA = page.locator(`.tab[data-chat="${a.chatId}"]`);
  const tabB = page.locator(`.tab[data-chat="${b.chatId}"]`);
  assert.equal(await tabB.getAttribute("aria-selected"), "true");
  await a.send("first from Ann");
  await a.send("second from Ann");
  await b.send("hello from Ben");
  await until(async () => (await tabA.locator(".badge").textContent()) === "2", 5000, "Ann's unread count");
  assert.equal(await tabA.getAttribute("aria-label"), "Ann, 2 unread");
  assert.equal(await tabB.locator(".badge").isVisible(), false, "the chat in view has no unread count");
  await until(async () => (await page.title()).startsWith("(2) "), 5000, "the count in the title");
  await shot(page, "tabs");
  await tabA.click();
  await until(async () => !(await page.title()).startsWith("("), 5000, "the title without count");
  assert.equal(await tabA.locator(".badge").isVisible(), false);
  assert.deepEqual(await messages(page, a.chatId), ["first from Ann", "second from Ann"]);
  // Keyboard: Alt+J moves to the next chat and puts focus in its message box.
  await page.keyboard.press("Alt+J");
  assert.equal(await tabB.getAttribute("aria-selected"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "TEXTAREA");
  for (const c of [a, b]) {
    const panel = await panelOf(page, c.chatId);
    await page.locator(`.tab[data-chat="${c.chatId}"]`).click();
    await panel.getByRole("button", { name: "End chat" }).click();
    await panel.getByRole("button", { name: "Close tab" }).click();
  }
});

test("hostile text is rendered as text; only http(s) URLs become links", async () => {
  const { page } = con;
  const cust = await new Customer(all.server.base).start({ nickname: "<img src=x onerror=window.__xss=1>", subject: "<script>window.__xss=3</script>" });
  await acceptOffer(page, cust.chatId);
  const payloads = [
    "<img src=x onerror=window.__xss=1>",
    "<script>window.__xss=2</script>",
    "javascript:window.__xss=4",
    "see https://ok.example/a?b=<c> and javascript://x%0Aalert(1) and data:text/html,<b>x</b>",
    "<a href=\"javascript:window.__xss=5\">click</a>",
  ];
  for (const p of payloads) await cust.send(p);
  await cust.op("pushUrl", { pushUrl: "javascript:window.__xss=6" });
  await until(async () => (await messages(page, cust.chatId)).length === payloads.length, 5000, "the payloads");
  assert.deepEqual(await messages(page, cust.chatId), payloads);
  const panel = await panelOf(page, cust.chatId);
  assert.equal(await panel.locator(".transcript img, .transcript script, .customer img, .tab img").count(), 0);
  const hrefs = await panel.locator(".transcript a").evaluateAll((as) => as.map((a) => a.href));
  assert.deepEqual(hrefs, ["https://ok.example/a?b="]);
  await until(async () => (await lines(page, cust.chatId)).some((l) => l.kind === "PushUrl"), 5000, "the pushed URL line");
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.match(await panel.locator(".customer").textContent(), /<script>window.__xss=3<\/script>/);
  await shot(page, "xss");
  await panel.getByRole("button", { name: "End chat" }).click();
  await panel.getByRole("button", { name: "Close tab" }).click();
  assert.deepEqual(con.problems, []);
});

test("leave chat: the agent leaves, the chat goes on and is offered again", async () => {
  const { page } = con;
  const cust = await new Customer(all.server.base).start({ nickname: "Lea" });
  await acceptOffer(page, cust.chatId);
  const panel = await panelOf(page, cust.chatId);
  await panel.getByRole("button", { name: "Leave chat" }).click();
  await until(async () => (await panel.locator(".chat-state").textContent()) === "You left the chat.", 5000, "left");
  assert.equal(await panel.locator("textarea").isDisabled(), true);
  await until(async () => (await cust.transcript()).some((m) => m.type === "ParticipantLeft" && m.from?.type === "Agent"), 5000, "the customer sees the agent leave");
  await page.locator(`.offer[data-chat="${cust.chatId}"]`).waitFor(); // queued again: offered again
  await panel.getByRole("button", { name: "Close tab" }).click();
  await cust.op("disconnect");
  await until(async () => (await page.locator(`.offer[data-chat="${cust.chatId}"]`).count()) === 0, 5000, "the offer withdrawn when the customer leaves");
  assert.equal(await page.locator(`.tab[data-chat="${cust.chatId}"]`).count(), 0, "a closed tab stays closed");
  assert.deepEqual(con.problems, []);
});
