// The official CometD client's recovery paths against the real binary, through a proxy that
// injects network faults (CometD's ConnectFailure, ConnectTemporaryFailure, EmptyResponse,
// MaxNetworkDelay and WebSocketConnectTimeout tests, as black-box scenarios): the server keeps
// the session and its queue across failed connects, and with the ack extension re-sends what
// a lost or abandoned reply carried, exactly once and in order.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { AckExtension } from "cometd/AckExtension.js";
import { startServer, until, sleep } from "./harness.mjs";
import { client, handshake, publish, subscribe, disconnect } from "./cometd-client.mjs";
import { startProxy } from "./fault-proxy.mjs";

let server;
before(async () => {
  // Short holds, so a client's request timeout (hold + maxNetworkDelay) is reached quickly.
  server = await startServer({ extraToml: "timeout_ms = 1000\n" });
});
after(async () => {
  await server.stop();
  server.cleanup();
});

const target = () => `127.0.0.1:${server.port}`;

/** A subscriber through `proxy` on `channel`; returns the client, what it got, and counters. */
async function subscriber(proxy, channel, { transport = "long-polling", extensions = {}, config = {} } = {}) {
  const c = client(`${proxy.url}/genesys/cometd`, transport, extensions);
  c.configure(config);
  const got = [];
  const meta = { handshakes: 0, failedConnects: 0 };
  c.addListener("/meta/handshake", (m) => m.successful && (meta.handshakes += 1));
  c.addListener("/meta/connect", (m) => !m.successful && (meta.failedConnects += 1));
  if (transport === "websocket") {
    // A failed first attempt (the WebSocket timing out) is reported to the handshake callback
    // before the client retries on the next transport: wait for the successful one.
    const ok = new Promise((resolve) => c.addListener("/meta/handshake", (m) => m.successful && resolve()));
    c.handshake();
    await ok;
  } else {
    await handshake(c);
  }
  await subscribe(c, channel, (m) => got.push(m.data.n));
  return { c, got, meta };
}

/** A publisher straight to the server. */
async function publisher() {
  const p = client(server.cometd, "long-polling");
  await handshake(p);
  return p;
}

const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);

test("ConnectFailure: connects failing with 500 are retried; the session and its queue survive", async () => {
  let failing = 0;
  const proxy = await startProxy(target(), {
    fault: ({ channels }) => (channels.includes("/meta/connect") && failing > 0 ? (failing--, { status: 500 }) : undefined),
  });
  const { c, got, meta } = await subscriber(proxy, "/faults/a");
  const p = await publisher();
  await publish(p, "/faults/a", { n: 0 });
  await until(() => got.length === 1, 10000, "first message");
  failing = 2; // ConnectTemporaryFailure: the next two connects fail, then the network is back
  await until(() => proxy.seen.faults.length >= 1, 10000, "a failed connect");
  for (const n of range(1, 6)) await publish(p, "/faults/a", { n });
  await until(() => got.length === 6, 15000, "messages after the failures");
  assert.deepEqual(got, range(0, 6));
  assert.equal(proxy.seen.faults.length, 2);
  assert.ok(meta.failedConnects >= 1, "the client saw its connects fail");
  assert.equal(meta.handshakes, 1, "no new handshake: the server kept the session");
  await disconnect(p);
  await disconnect(c);
  await proxy.close();
});

// A reply that never reaches the client (emptied, or abandoned by the client's own timeout)
// loses what it carried unless the ack extension has it re-sent.
for (const [name, action] of [
  ["EmptyResponse: a connect answered with an empty body", { empty: true }],
  ["MaxNetworkDelay: a connect reply held past the client's maxNetworkDelay", { delayMs: 4000 }],
]) {
  test(`${name} is a failure; with ack its messages come again, once each, in order`, async () => {
    let armed = false;
    const proxy = await startProxy(target(), {
      fault: ({ channels }) => (armed && channels.includes("/meta/connect") ? ((armed = false), action) : undefined),
    });
    const { c, got, meta } = await subscriber(proxy, "/faults/b", {
      extensions: { ack: new AckExtension() },
      config: { maxNetworkDelay: 1000 },
    });
    const p = await publisher();
    await publish(p, "/faults/b", { n: 0 });
    await until(() => got.length === 1, 10000, "first message");
    armed = true; // the next connect the client sends gets the fault
    await until(() => proxy.seen.faults.length === 1, 10000, "the faulted connect to be sent");
    // The server now holds the faulted connect: these are answered in the reply that is lost.
    for (const n of range(1, 6)) await publish(p, "/faults/b", { n });
    await until(() => got.length >= 6, 20000, "messages re-sent after the lost reply");
    await sleep(300);
    assert.deepEqual(got, range(0, 6));
    assert.ok(meta.failedConnects >= 1, "the client treated the reply as a failure");
    assert.equal(meta.handshakes, 1);
    await disconnect(p);
    await disconnect(c);
    await proxy.close();
  });
}

test("WebSocketConnectTimeout: an upgrade never answered falls back to long-polling", async () => {
  const proxy = await startProxy(target(), { swallowUpgrades: true });
  const { c, got } = await subscriber(proxy, "/faults/c", { transport: "websocket", config: { connectTimeout: 500 } });
  assert.ok(proxy.seen.upgrades >= 1, "the client tried WebSocket first");
  assert.equal(c.getTransport().type, "long-polling");
  const p = await publisher();
  await publish(p, "/faults/c", { n: 7 });
  await until(() => got.length === 1, 10000, "a message over the fallback transport");
  assert.deepEqual(got, [7]);
  await disconnect(p);
  await disconnect(c);
  await proxy.close();
});
