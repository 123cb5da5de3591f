// A network drop mid-chat: the browser goes offline and the server side cuts every socket.
// The widget shows an alert, holds what the customer types, and after the network returns
// every message of both sides arrives exactly once, in order.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startRig, openHost, startChat, say, transcript, customerTexts, until, OUTPUT } from "./widget-harness.mjs";

let rig;
before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig?.close();
});

const cases = [
  ["websocket", true, true], ["long-polling", true, true], ["rest", true, true],
  // The server side alone cuts: the widget must notice the dead connection by itself.
  ["websocket", false, true], ["long-polling", false, true],
  // The browser alone goes offline: its open socket stays, holding frames (playwright#4910);
  // the widget must still show it and hold the customer's messages.
  ["websocket", true, false],
];
for (const [transport, browserOffline, cut] of cases) {
  const how = browserOffline && cut ? "" : browserOffline ? " (browser offline only)" : " (server cut only)";
  test(`messages sent during a drop arrive once each over ${transport}${how}`, async () => {
    const context = await rig.browser.newContext();
    const { page } = await openHost(context, rig.hostUrl({ transport }));
    await startChat(page);
    const chatId = await rig.agent.acceptNext();
    await rig.agent.say(chatId, "agent before");
    await say(page, "customer before");
    await until(async () => (await transcript(page)).messages.length === 2, 10000, "the first two messages");

    if (browserOffline) await context.setOffline(true);
    if (cut) rig.cutter.cut(true);
    const banner = page.locator(".cw-offline[role=alert]");
    await banner.waitFor({ state: "visible", timeout: 15000 });

    await rig.agent.say(chatId, "agent away 1");
    await say(page, "customer away 1");
    await rig.agent.say(chatId, "agent away 2");
    await say(page, "customer away 2");
    await page.locator(".cw-unsent").nth(1).waitFor();
    await page.screenshot({ path: join(OUTPUT, `widget-offline-${transport}${how ? (cut ? "-cut" : "-browser") : ""}.png`) });

    rig.cutter.restore();
    if (browserOffline) await context.setOffline(false);
    await banner.waitFor({ state: "hidden", timeout: 30000 });
    const all = ["agent before", "customer before", "agent away 1", "agent away 2", "customer away 1", "customer away 2"];
    await until(async () => (await transcript(page)).messages.length >= all.length && (await page.locator(".cw-unsent").count()) === 0, 30000, "everything after the drop").catch(async (e) => {
      throw new Error(`${e.message}: shown ${(await transcript(page)).messages}; unsent ${await page.locator(".cw-unsent").count()}; agent has ${await customerTexts(rig.agent, chatId)}`);
    });
    const t = await transcript(page);
    assert.deepEqual([...t.messages].sort(), [...all].sort(), `each message once: ${t.messages}`);
    assert.equal(new Set(t.indexes).size, t.indexes.length, "each event once");
    assert.deepEqual(t.indexes, [...t.indexes].sort((a, b) => a - b), "in order");
    await page.waitForTimeout(1500); // a late duplicate would show up here
    assert.deepEqual(await customerTexts(rig.agent, chatId), ["customer before", "customer away 1", "customer away 2"]);
    assert.equal((await transcript(page)).messages.length, all.length);
    await context.close();
  });
}
