// GMS Chat API v2 over CometD with the official npm `cometd` client, over long-polling and
// WebSocket, against the real binary; the agent answers through the agent API.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { AckExtension } from "cometd/AckExtension.js";
import { TimeSyncExtension } from "cometd/TimeSyncExtension.js";
import { sharedServer, startServer, Agent, CHANNEL, uniqueTag, until, indexes, strictlyIncreasing, sleep } from "./harness.mjs";
import { client, handshake, publish, disconnect, notifications } from "./cometd-client.mjs";

const shared = sharedServer({ before, after });

const events = (notes) => notes.flatMap((n) => n.messages || []);
const texts = (notes) => events(notes).filter((e) => e.type === "Message").map((e) => e.text);

/** requestChat on a fresh client and the agent's accept; returns the pieces. */
async function startChat(transport, extensions) {
  const c = client(shared.server.cometd, transport, extensions);
  const notes = notifications(c);
  await handshake(c);
  const tag = uniqueTag();
  await publish(c, CHANNEL, { operation: "requestChat", nickname: "Joan", subject: "Savings", userData: { k: "v", tag } });
  const first = await until(() => notes.find((n) => n.secureKey), 10000, "requestChat notification");
  const agent = new Agent(shared.server.base);
  await agent.ready();
  const chatId = await agent.acceptWhere((v) => v.user_data.tag === tag);
  await until(() => events(notes).some((e) => e.type === "ParticipantJoined" && e.from.type === "Agent"), 10000, "agent join");
  return { c, notes, key: first.secureKey, agent, chatId };
}

for (const transport of ["long-polling", "websocket"]) {
  test(`full GMS chat over ${transport}`, async () => {
    const { c, notes, key, agent, chatId } = await startChat(transport);
    assert.equal(c.getTransport().type, transport);
    const first = notes[0];
    assert.equal(first.statusCode, 0);
    assert.equal(first.alias, "0");
    assert.equal(first.userId, "deprecated");
    assert.equal(first.chatId, "deprecated");
    assert.equal(first.messages[0].type, "ParticipantJoined");
    assert.equal(first.messages[0].from.nickname, "Joan");

    await agent.say(chatId, "hello from the agent");
    await until(() => texts(notes).includes("hello from the agent"), 10000, "agent message");
    const unsolicited = notes.find((n) => n.messages.some((e) => e.text === "hello from the agent"));
    assert.equal(unsolicited.messages.length, 1, "unsolicited notifications carry exactly one event");
    assert.equal(unsolicited.secureKey, key, "every notification carries the secureKey");
    assert.equal(unsolicited.nextPosition, unsolicited.messages[0].index + 1);

    for (const [operation, extra] of [
      ["startTyping", { message: "I ne" }],
      ["sendMessage", { message: "I need help", messageType: "text" }],
      ["stopTyping", {}],
      ["pushUrl", { pushUrl: "https://example.com/a" }],
      ["customNotice", { message: "notice" }],
      ["updateNickname", { nickname: "Joan S" }],
      ["updateData", { userData: { k2: "v2" } }],
    ]) {
      await publish(c, CHANNEL, { operation, secureKey: key, chatId: "deprecated", userId: "deprecated", alias: "0", ...extra });
    }
    await until(() => events(notes).some((e) => e.type === "NicknameUpdated"), 10000, "nickname event");
    const view = await agent.view(chatId);
    const kinds = view.events.map((e) => e.kind);
    for (const k of ["TypingStarted", "Message", "TypingStopped", "PushUrl", "CustomNotice", "NicknameUpdated"]) {
      assert.ok(kinds.includes(k), `agent sees ${k}`);
    }
    assert.ok(view.events.some((e) => e.text === "I need help" && e.from.party_type === "Client"));
    assert.equal(view.user_data.k2, "v2");

    const last = Math.max(...indexes(notes));
    await publish(c, CHANNEL, { operation: "readReceipt", secureKey: key, transcriptPosition: String(last) });
    strictlyIncreasing(indexes(notes));
    // A transcript read through CometD (`refresh`, used by Widgets): position -1 is the newest.
    const before = notes.length;
    await publish(c, CHANNEL, { operation: "refresh", secureKey: key, transcriptPosition: -1 });
    const page = await until(() => notes.slice(before).find((n) => n.messages.length === 1), 10000, "refresh -1");
    assert.equal(page.messages[0].index, last);

    await publish(c, CHANNEL, { operation: "disconnect", secureKey: key });
    // The answer to disconnect carries no credentials (the unsolicited ParticipantLeft does).
    const bye = await until(() => notes.find((n) => n.chatEnded === true && n.statusCode === 0 && !("secureKey" in n)), 10000, "disconnect answer");
    assert.equal(bye.userId, undefined, "the disconnect answer has no userId");
    assert.ok(events(notes).some((e) => e.type === "ParticipantLeft" && e.from.type === "Client"));
    assert.equal((await agent.view(chatId)).ended, true);

    // Any later operation with the dead key is an error notification.
    await publish(c, CHANNEL, { operation: "sendMessage", secureKey: key, message: "too late" });
    const err = await until(() => notes.find((n) => n.statusCode === 2), 10000, "error notification");
    assert.equal(err.errors[0].code, 404);
    await disconnect(c);
  });
}

test("one requestChat per CometD client, and errors are notifications with statusCode 2", async () => {
  const c = client(shared.server.cometd, "websocket");
  const notes = notifications(c);
  await handshake(c);
  await publish(c, CHANNEL, { operation: "requestChat" });
  const noName = await until(() => notes.find((n) => n.statusCode === 2), 10000, "161");
  assert.equal(noName.errors[0].code, 161);
  await publish(c, CHANNEL, { operation: "requestChat", firstName: "A", lastName: "B" });
  await until(() => notes.find((n) => n.statusCode === 0), 10000, "chat");
  await publish(c, CHANNEL, { operation: "requestChat", nickname: "again" });
  await until(() => notes.filter((n) => n.statusCode === 2).length === 2, 10000, "second requestChat refused");
  assert.equal(notes.filter((n) => n.statusCode === 2)[1].errors[0].code, 400);
  await publish(c, CHANNEL, { operation: "sendMessage", secureKey: "not-a-key", message: "x" });
  await until(() => notes.filter((n) => n.statusCode === 2).length === 3, 10000, "bad key");
  assert.equal(notes.filter((n) => n.statusCode === 2)[2].errors[0].code, 404);
  await publish(c, CHANNEL, { operation: "fly", secureKey: "k" });
  await until(() => notes.filter((n) => n.statusCode === 2).length === 4, 10000, "unknown op");
  await disconnect(c);
});

for (const transport of ["long-polling", "websocket"]) {
  test(`resume with requestNotifications after the transport drops (${transport})`, async () => {
    const { c, notes, key, agent, chatId } = await startChat(transport);
    await agent.say(chatId, "m1");
    await until(() => texts(notes).includes("m1"));
    const seen = Math.max(...indexes(notes));
    await disconnect(c);
    await agent.say(chatId, "m2");
    await agent.say(chatId, "m3");

    const c2 = client(shared.server.cometd, transport);
    const notes2 = notifications(c2);
    await handshake(c2);
    await publish(c2, CHANNEL, { operation: "requestNotifications", secureKey: key, transcriptPosition: seen + 1, message: "" });
    await until(() => texts(notes2).includes("m3"), 10000, "missed messages");
    await agent.say(chatId, "m4");
    await until(() => texts(notes2).includes("m4"), 10000, "live message after resume");
    assert.deepEqual(texts(notes2), ["m2", "m3", "m4"]);
    const got = indexes(notes2);
    strictlyIncreasing(got);
    assert.ok(got[0] === seen + 1, `resume starts right after ${seen}: ${got}`);
    await disconnect(c2);
  });
}

test("ack extension: negotiated, batches acknowledged, a burst arrives complete and in order", async () => {
  const acks = [];
  const { c, notes, agent, chatId } = await startChat("long-polling", { ack: new AckExtension() });
  c.addListener("/meta/connect", (m) => m.ext && acks.push(m.ext.ack));
  for (let i = 0; i < 30; i++) await agent.say(chatId, `burst ${i}`);
  await until(() => texts(notes).includes("burst 29"), 15000, "burst");
  assert.deepEqual(texts(notes).filter((t) => t.startsWith("burst")), Array.from({ length: 30 }, (_, i) => `burst ${i}`));
  strictlyIncreasing(indexes(notes));
  assert.ok(acks.length > 0 && acks.every((a) => typeof a === "number"), `connect replies carry ack batches: ${acks}`);
  strictlyIncreasing(acks);
  await disconnect(c);
});

test("ack extension over WebSocket delivers through connect replies", async () => {
  let handshakeAck;
  const c = client(shared.server.cometd, "websocket", { ack: new AckExtension() });
  c.addListener("/meta/handshake", (m) => (handshakeAck = m.ext && m.ext.ack));
  const notes = notifications(c);
  await handshake(c);
  await publish(c, CHANNEL, { operation: "requestChat", nickname: "Ack" });
  await until(() => notes.length > 0, 10000, "notification");
  assert.equal(handshakeAck, true);
  await disconnect(c);
});

test("timesync extension gets tc/ts/p answers", async () => {
  const ts = new TimeSyncExtension();
  const replies = [];
  const c = client(shared.server.cometd, "long-polling", { timesync: ts });
  c.addListener("/meta/connect", (m) => m.ext && m.ext.timesync && replies.push(m.ext.timesync));
  await handshake(c);
  await until(() => replies.length >= 1, 10000, "timesync on connect");
  const r = replies[0];
  assert.equal(typeof r.tc, "number");
  assert.ok(Math.abs(r.ts - Date.now()) < 5000, "server time is now");
  assert.ok(r.p >= 0);
  assert.equal(typeof ts.getNetworkLag(), "number");
  await disconnect(c);
});

test("server restart: the client re-handshakes and resumes the chat", async () => {
  const own = await startServer();
  try {
    const c = client(own.cometd, "long-polling");
    const notes = notifications(c);
    let handshakes = 0;
    c.addListener("/meta/handshake", (m) => {
      if (!m.successful) return;
      handshakes += 1;
      if (handshakes > 1 && key) {
        // What Widgets do after a re-handshake.
        const from = Math.max(0, ...indexes(notes)) + 1;
        c.publish(CHANNEL, { operation: "requestNotifications", secureKey: key, transcriptPosition: from });
      }
    });
    await handshake(c);
    await publish(c, CHANNEL, { operation: "requestChat", nickname: "Restart" });
    const first = await until(() => notes.find((n) => n.secureKey));
    var key = first.secureKey;
    const agent = new Agent(own.base);
    await agent.ready();
    const chatId = await agent.acceptNext();
    await agent.say(chatId, "before restart");
    await until(() => texts(notes).includes("before restart"));

    await own.stop();
    const again = await startServer({ port: own.port, dir: own.dir });
    own.stop = again.stop;
    await until(() => handshakes >= 2, 30000, "re-handshake");
    const agent2 = new Agent(again.base);
    await agent2.ready();
    await sleep(300);
    await agent2.say(chatId, "after restart");
    await until(() => texts(notes).includes("after restart"), 15000, "message after restart");
    assert.deepEqual(texts(notes), ["before restart", "after restart"]);
    strictlyIncreasing(indexes(notes));
    await disconnect(c);
  } finally {
    await own.stop();
    own.cleanup();
  }
});
