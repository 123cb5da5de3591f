// Push subscriptions made over CometD (push_notification_* userData on requestChat), with
// the official npm `cometd` client against the real binary and a local customhttp
// receiver: push_notification_to_active_client, and the shutdown notice on SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startServer, Agent, CHANNEL, until } from "./harness.mjs";
import { client, handshake, publish, disconnect, notifications } from "./cometd-client.mjs";

/** A customhttp receiver: every POSTed JSON body, in arrival order. */
async function receiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      got.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}/push`;
  return { got, url, close: () => new Promise((r) => server.close(r)) };
}

const pushToml = (url, extra) =>
  `[push]\nenabled = ["comet", "customhttp"]\ninclude_payload = true\n${extra}\n[push.customhttp]\nurl = "${url}"\n`;

const events = (notes) => notes.flatMap((n) => n.messages || []);

/** A CometD client that requested a chat with push userData for `device`; the agent accepted. */
async function mobileChat(server, agent, device) {
  const c = client(server.cometd, "long-polling");
  const notes = notifications(c);
  await handshake(c);
  const userData = { push_notification_deviceid: device, push_notification_type: "customhttp" };
  await publish(c, CHANNEL, { operation: "requestChat", nickname: "Mo", userData });
  const first = await until(() => notes.find((n) => n.secureKey), 10000, "requestChat notification");
  const chatId = await agent.acceptWhere((v) => v.user_data.push_notification_deviceid === device);
  await until(() => events(notes).some((e) => e.type === "ParticipantJoined" && e.from.type === "Agent"), 10000, "agent join");
  return { c, notes, chatId };
}

const pushedTexts = (rx, device) =>
  rx.got.filter((b) => b.deviceId === device).flatMap((b) => b.message.messages).map((e) => e.text ?? e.type);

test("a CometD subscription pushes only while no CometD client is connected (to_active_client)", async () => {
  const rx = await receiver();
  const server = await startServer({ extraToml: pushToml(rx.url, "to_active_client = true\npresence_grace_ms = 1000") });
  try {
    const agent = new Agent(server.base);
    await agent.ready();
    const { c, notes, chatId } = await mobileChat(server, agent, "dev-live");
    await agent.say(chatId, "while connected");
    await until(() => events(notes).some((e) => e.text === "while connected"), 10000, "CometD delivery");
    // Still connected presence_grace_ms after them, the join and the message are skipped.
    const skipped = async () => (await (await fetch(`${server.base}/health`)).json()).push.skipped;
    await until(async () => (await skipped()) >= 2, 10000, "pushes skipped");
    // The app goes to the background: its CometD session ends.
    await disconnect(c);
    await agent.say(chatId, "after leaving");
    await until(() => rx.got.length >= 1, 10000, "a push");
    // The join and the first message were skipped because the client was connected.
    assert.deepEqual(pushedTexts(rx, "dev-live"), ["after leaving"]);
    const body = rx.got[0];
    assert.equal(body.message.messages[0].from.nickname, "Demo Agent");
    assert.equal(body.message.statusCode, 0);
    assert.ok(body.message.secureKey, "the payload carries the CometD secureKey");

    // The app comes back with a new device token: requestNotifications repeats the push
    // keys with the new id, and from then on pushes go to the new device.
    const again = client(server.cometd, "long-polling");
    const againNotes = notifications(again);
    await handshake(again);
    const userData = { push_notification_deviceid: "dev-new", push_notification_type: "customhttp" };
    await publish(again, CHANNEL, { operation: "requestNotifications", secureKey: body.message.secureKey, transcriptPosition: 1, userData });
    await until(() => events(againNotes).some((e) => e.text === "after leaving"), 10000, "resumed notifications");
    await disconnect(again);
    await agent.say(chatId, "to the new device");
    await until(() => rx.got.some((b) => b.deviceId === "dev-new"), 10000, "a push to the new device");
    assert.deepEqual(pushedTexts(rx, "dev-new"), ["to the new device"]);
    assert.deepEqual(pushedTexts(rx, "dev-live"), ["after leaving"]);
  } finally {
    await server.stop();
    server.cleanup();
    await rx.close();
  }
});

test("on SIGTERM every subscribed chat is told to reconnect (shutdown-notify-flex-push)", async () => {
  const rx = await receiver();
  const server = await startServer({ extraToml: pushToml(rx.url, "shutdown_notify = true") });
  try {
    const agent = new Agent(server.base);
    await agent.ready();
    const a = await mobileChat(server, agent, "dev-a");
    const b = await mobileChat(server, agent, "dev-b");
    // A chat without a subscription gets no notice.
    const plain = client(server.cometd, "long-polling");
    const plainNotes = notifications(plain);
    await handshake(plain);
    await publish(plain, CHANNEL, { operation: "requestChat", nickname: "NoPush" });
    await until(() => plainNotes.find((n) => n.secureKey), 10000, "plain chat");
    await until(() => pushedTexts(rx, "dev-a").length >= 1 && pushedTexts(rx, "dev-b").length >= 1, 10000, "join pushes");
    for (const c of [a.c, b.c, plain]) await disconnect(c);
    const before = rx.got.length;
    await server.stop("SIGTERM");
    const notices = rx.got.slice(before);
    if (notices.length === 0) console.log(server.log());
    assert.deepEqual(notices.map((n) => n.deviceId).sort(), ["dev-a", "dev-b"]);
    for (const n of notices) {
      assert.equal(n.message.messages.length, 1);
      const e = n.message.messages[0];
      assert.equal(e.type, "ParticipantLeft");
      assert.deepEqual(e.from, { nickname: "Mo", participantId: 1, type: "Client" });
      assert.deepEqual(e.userData, { "quit-reason-advice": "reconnect" });
      assert.equal(n.message.chatEnded, false);
    }
  } finally {
    await server.stop();
    server.cleanup();
    await rx.close();
  }
});
