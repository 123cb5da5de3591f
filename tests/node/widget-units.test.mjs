// The widget's exactly-once rules on their own, in Chromium, with the widget's real modules:
// GMS answers overlapping in their events (as a REST send and a poll can) feed each index
// once, in order; the transcript renders an index once even when given it again; a
// message's echo takes it off the outbox.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startRig, openHost } from "./widget-harness.mjs";

let rig;
before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig?.close();
});

test("overlapping answers give each event once; the transcript shows an index once", async () => {
  const context = await rig.browser.newContext();
  const { page } = await openHost(context, rig.hostUrl({ transport: "rest" }));
  const got = await page.evaluate(async (base) => {
    const { Chat } = await import(`${base}/gms.js`);
    const { Transcript } = await import(`${base}/transcript.js`);
    const { en } = await import(`${base}/strings.js`);
    const fed = [];
    let outboxSizes = [];
    const chat = new Chat({
      server: "http://127.0.0.1:1", service: "unit", transport: "rest",
      on: { events: (l) => fed.push(l.map((e) => e.index)), online() {}, ended() {}, error() {}, outbox: () => outboxSizes.push(chat.outbox.length) },
    });
    const ev = (index, extra = {}) => ({ index, type: "Message", text: `m${index}`, from: { type: "Agent", nickname: "A" }, ...extra });
    chat.note({ statusCode: 0, messages: [ev(1), ev(2)] });
    chat.note({ statusCode: 0, messages: [ev(2), ev(3)] });
    chat.note({ statusCode: 0, messages: [ev(1)] });
    chat.outbox.push({ cid: "c1", text: "hi", state: "sent" });
    chat.note({ statusCode: 0, messages: [ev(4, { from: { type: "Client" }, eventAttributes: { "cw-id": "c1" } })] });
    // A gap: nothing past it is taken; the missing part is read once, then all of it comes.
    const fills = [];
    chat.backend = { fill: (n) => fills.push(n), close() {} };
    chat.note({ statusCode: 0, messages: [ev(7), ev(6)] });
    const afterGap = fed.length;
    chat.note({ statusCode: 0, messages: [ev(5), ev(6), ev(7)] });
    // An index the server never shows (a second gap at the same place) is skipped, not re-read forever.
    chat.note({ statusCode: 0, messages: [ev(9)] });
    chat.note({ statusCode: 0, messages: [ev(9)] });
    // A message typed before the chat exists waits for its secureKey, then goes.
    const early = new Chat({ server: "http://127.0.0.1:1", service: "unit2", transport: "rest", on: { events() {}, online() {}, ended() {}, error() {}, outbox() {} } });
    const sent = [];
    early.backend = { send: async (text) => sent.push(text), fill() {}, close() {} };
    early.setOnline(true);
    early.send("typed early");
    await new Promise((r) => setTimeout(r, 50));
    const sentBeforeKey = sent.length;
    early.note({ statusCode: 0, secureKey: "k", chatId: "c", userId: "u", alias: "1", messages: [] });
    await new Promise((r) => setTimeout(r, 50));
    const t = new Transcript(en);
    t.add([ev(1), ev(2)]);
    t.add([ev(2), ev(3)]);
    const shown = [...t.log.querySelectorAll("[data-index]")].map((e) => Number(e.dataset.index));
    return { fed, shown, outbox: chat.outbox.length, position: chat.lastIndex + 1, fills, afterGap, sentBeforeKey, sent };
  }, rig.widgetBase);
  assert.deepEqual(got.fed, [[1, 2], [3], [4], [5, 6, 7], [9]]);
  assert.equal(got.afterGap, 3, "nothing past a gap is taken");
  assert.deepEqual(got.fills, [5, 8]);
  assert.deepEqual(got.shown, [1, 2, 3]);
  assert.equal(got.outbox, 0, "the echo took the message off the outbox");
  assert.equal(got.position, 10);
  assert.equal(got.sentBeforeKey, 0, "nothing is sent before the chat has its key");
  assert.deepEqual(got.sent, ["typed early"]);
  await context.close();
});
