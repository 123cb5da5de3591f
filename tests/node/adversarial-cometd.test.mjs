// Adversarial CometD checks with the official npm `cometd` client against the real binary:
// exactly once at the end of a chat (issue [4] defect 13: a customer's `disconnect` used to
// bring ParticipantLeft twice, unsolicited and in the answer), and the apikey / basic-auth
// guards of a service over CometD (defect 6), with credentials in request headers
// (`requestHeaders`, long-polling) or in the requestChat data.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CometD } from "cometd";
import { startServer, Agent, CHANNEL, uniqueTag, until, indexes } from "./harness.mjs";
import { client, handshake, publish, disconnect, notifications } from "./cometd-client.mjs";

const KEY = "adv-k3y";
const TOML = `
[services.customer-support.limits]
new_chats_per_ip = { per_second = 0, burst = 1 }

[services.keyed]
apikey = "${KEY}"

[services.basic]
basic_auth = { username = "widget", password = "pa55" }
`;

let server;
before(async () => {
  server = await startServer({ extraToml: TOML });
});
after(async () => {
  await server.stop();
  server.cleanup();
});

const events = (notes) => notes.flatMap((n) => n.messages || []);

/** The customer chats with an agent, then sends `disconnect`; returns what it received. */
async function chatThenDisconnect(transport, agent, n) {
  const c = client(server.cometd, transport);
  const notes = notifications(c);
  await handshake(c);
  const tag = uniqueTag();
  await publish(c, CHANNEL, { operation: "requestChat", nickname: "Eve", userData: { tag } });
  const key = (await until(() => notes.find((x) => x.secureKey), 10000, "requestChat answer")).secureKey;
  const chatId = await agent.acceptWhere((v) => v.user_data.tag === tag);
  await until(() => events(notes).some((e) => e.type === "ParticipantJoined" && e.from.type === "Agent"), 10000, "agent join");
  await publish(c, CHANNEL, { operation: "sendMessage", secureKey: key, message: `hi ${n}` });
  // Vary the race: sometimes the agent writes right before the customer leaves.
  if (n % 2) await agent.say(chatId, `bye ${n}`);
  await publish(c, CHANNEL, { operation: "disconnect", secureKey: key });
  const answer = await until(() => notes.find((x) => x.chatEnded === true && !("secureKey" in x)), 10000, "disconnect answer");
  // A later operation with the dead key is answered after anything queued before it.
  await publish(c, CHANNEL, { operation: "sendMessage", secureKey: key, message: "after" });
  await until(() => notes.some((x) => x.statusCode === 2), 10000, "error after the end");
  await disconnect(c);
  return { notes, answer, chatId };
}

for (const transport of ["long-polling", "websocket"]) {
  test(`exactly once at the end of a chat over ${transport} (20 tries)`, async () => {
    const agent = new Agent(server.base);
    await agent.ready();
    for (let n = 0; n < 20; n++) {
      const { notes, answer, chatId } = await chatThenDisconnect(transport, agent, n);
      const ok = notes.filter((x) => x.statusCode === 0);
      const got = indexes(ok);
      const last = (await agent.view(chatId)).events.length;
      assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i + 1), `try ${n}: every index once, in order: ${got}`);
      assert.equal(got.length, last, `try ${n}: every event of the chat (${last}) arrived: ${got}`);
      const left = events(ok).filter((e) => e.type === "ParticipantLeft" && e.from.type === "Client");
      assert.equal(left.length, 1, `try ${n}: one ParticipantLeft: ${JSON.stringify(ok)}`);
      assert.equal(answer.chatEnded, true);
      assert.equal(answer.statusCode, 0);
      assert.equal(answer.secureKey, undefined, "the disconnect answer has no secureKey");
      assert.equal(answer.userId, undefined, "the disconnect answer has no userId");
      const ended = ok.filter((x) => x.chatEnded === true && !("secureKey" in x));
      assert.equal(ended.length, 1, `try ${n}: one disconnect answer`);
      assert.equal(ok[ok.length - 1], answer, `try ${n}: the disconnect answer comes last`);
      const after = notes.filter((x) => x.statusCode === 2);
      assert.equal(after.length, 1);
      assert.equal(after[0].errors[0].code, 404, "the key is dead after the end");
    }
  });
}

/** A long-polling client of the npm library with `requestHeaders`. */
function headerClient(requestHeaders) {
  const c = new CometD();
  c.configure({ url: server.cometd, maxNetworkDelay: 5000, logLevel: "warn", requestHeaders });
  c.unregisterTransport("websocket");
  return c;
}

/** requestChat on `service` with `data`; returns the first notification. */
async function requestChat(c, service, data = {}) {
  const channel = `/service/chatV2/${service}`;
  const notes = notifications(c, channel);
  await handshake(c);
  await publish(c, channel, { operation: "requestChat", nickname: "Hal", ...data });
  const first = await until(() => notes[0], 10000, "requestChat answer");
  await disconnect(c);
  return first;
}

const openSessions = async () => (await (await fetch(`${server.base}/health`)).json()).open_sessions;

function refused(n) {
  assert.equal(n.statusCode, 2, JSON.stringify(n));
  assert.equal(n.errors[0].code, 401, JSON.stringify(n));
  assert.equal(n.secureKey, undefined);
}

function started(n) {
  assert.equal(n.statusCode, 0, JSON.stringify(n));
  assert.ok(n.secureKey, JSON.stringify(n));
}

test("a service's apikey guards requestChat over CometD (header or data)", async () => {
  const before = await openSessions();
  refused(await requestChat(headerClient({}), "keyed"));
  refused(await requestChat(headerClient({ apikey: "wrong" }), "keyed"));
  refused(await requestChat(client(server.cometd, "websocket"), "keyed"));
  refused(await requestChat(client(server.cometd, "websocket"), "keyed", { apikey: "wrong" }));
  assert.equal(await openSessions(), before, "no chat was created");
  started(await requestChat(headerClient({ apikey: KEY }), "keyed"));
  started(await requestChat(client(server.cometd, "websocket"), "keyed", { apikey: KEY }));
  started(await requestChat(client(server.cometd, "long-polling"), "keyed", { apikey: KEY }));
  assert.equal(await openSessions(), before + 3);
});

test("a service's basic auth guards requestChat over CometD (Authorization header or auth data)", async () => {
  const basic = (s) => ({ authorization: `Basic ${Buffer.from(s).toString("base64")}` });
  const before = await openSessions();
  refused(await requestChat(headerClient({}), "basic"));
  refused(await requestChat(headerClient(basic("widget:nope")), "basic"));
  refused(await requestChat(headerClient({ apikey: KEY }), "basic"));
  refused(await requestChat(client(server.cometd, "websocket"), "basic", { auth: { username: "widget", password: "x" } }));
  assert.equal(await openSessions(), before, "no chat was created");
  started(await requestChat(headerClient(basic("widget:pa55")), "basic"));
  started(await requestChat(client(server.cometd, "websocket"), "basic", { auth: { username: "widget", password: "pa55" } }));
  const encoded = Buffer.from("widget:pa55").toString("base64");
  started(await requestChat(client(server.cometd, "websocket"), "basic", { auth: { encoded } }));
  assert.equal(await openSessions(), before + 3);
});
