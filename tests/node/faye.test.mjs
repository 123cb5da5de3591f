// A second, independent Bayeux implementation: the npm `faye` client on broadcast channels,
// over WebSocket and long-polling, against the real binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { sharedServer, until } from "./harness.mjs";

const faye = createRequire(import.meta.url)("faye");
const shared = sharedServer({ before, after });

function fayeClient(transport) {
  const c = new faye.Client(shared.server.cometd, { timeout: 30, retry: 1 });
  if (transport === "long-polling") c.disable("websocket");
  return c;
}

const ready = (subscription) => new Promise((resolve, reject) => subscription.then(resolve, reject));

for (const transport of ["websocket", "long-polling"]) {
  test(`faye publish/subscribe with wildcards over ${transport}`, async () => {
    const a = fayeClient(transport);
    const b = fayeClient(transport);
    const exact = [], one = [], deep = [];
    await ready(a.subscribe("/room/lobby", (m) => exact.push(m)));
    await ready(b.subscribe("/room/*", (m) => one.push(m)));
    await ready(b.subscribe("/room/**", (m) => deep.push(m)));
    await ready(b.publish("/room/lobby", { text: "hi", n: 1 }));
    await ready(a.publish("/room/lobby/side", { text: "nested" }));
    await until(() => exact.length === 1 && one.length === 1 && deep.length === 2, 10000, "deliveries");
    assert.deepEqual(exact[0], { text: "hi", n: 1 });
    assert.deepEqual(one[0], { text: "hi", n: 1 });
    assert.deepEqual(deep.map((m) => m.text).sort(), ["hi", "nested"]);

    // Later publishes keep flowing to the same subscribers.
    await ready(b.publish("/room/lobby", { text: "after" }));
    await until(() => exact.length === 2, 10000, "second delivery");
    assert.equal(exact[1].text, "after");

    // Faye closes its transport only once a disconnect is answered; one still in flight when
    // the server stops is retried forever and keeps this process alive. Wait for both.
    await Promise.all([ready(a.disconnect()), ready(b.disconnect())]);
  });
}

test("faye: publishing to /meta is refused, a many-message burst arrives in order", async () => {
  const c = fayeClient("websocket");
  const got = [];
  await ready(c.subscribe("/burst", (m) => got.push(m.i)));
  for (let i = 0; i < 200; i++) c.publish("/burst", { i });
  await until(() => got.length === 200, 10000, "burst");
  assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
  await assert.rejects(ready(c.publish("/meta/custom", { x: 1 })));
  await ready(c.disconnect());
});
