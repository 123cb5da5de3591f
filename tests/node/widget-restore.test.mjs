// Restoring a chat: a reload mid-chat and a second tab show the whole transcript, each event
// once, and go on chatting; ending the chat in one tab ends it in the other.
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

/** Waits until the transcript shows exactly `texts` (no duplicates, nothing missing). */
async function showsExactly(page, texts, what) {
  await until(async () => (await transcript(page)).messages.length >= texts.length, 10000, what);
  const t = await transcript(page);
  assert.deepEqual(t.messages, texts, what);
  assert.equal(new Set(t.indexes).size, t.indexes.length, `${what}: each event once`);
  return t;
}

for (const transport of ["websocket", "rest"]) {
  test(`a reload and a second tab restore the chat over ${transport}`, async () => {
    const context = await rig.browser.newContext();
    const { page, problems } = await openHost(context, rig.hostUrl({ transport }));
    await startChat(page);
    await say(page, "first");
    const chatId = await rig.agent.acceptNext();
    // The order is the test's, not a race: "first" is in before the agent answers.
    await until(async () => (await customerTexts(rig.agent, chatId)).includes("first"), 10000, "the first message at the agent");
    await rig.agent.say(chatId, "second");
    await say(page, "third");
    await showsExactly(page, ["first", "second", "third"], "before the reload");
    const before = await transcript(page);

    await page.reload();
    await page.locator("[role=log] .cw-text", { hasText: "third" }).waitFor();
    const after = await showsExactly(page, ["first", "second", "third"], "after the reload");
    assert.deepEqual(after.indexes, before.indexes);
    assert.ok(await page.locator(".cw-panel").isVisible(), "the open panel stays open");
    assert.equal(await page.locator(".cw-agent").textContent(), "Demo Agent");

    // Going on after the reload: both directions, still once each.
    await rig.agent.say(chatId, "fourth");
    await say(page, "fifth");
    await showsExactly(page, ["first", "second", "third", "fourth", "fifth"], "after the reload, chatting on");
    await until(async () => (await customerTexts(rig.agent, chatId)).length === 3, 10000, "customer messages at the agent");
    assert.deepEqual(await customerTexts(rig.agent, chatId), ["first", "third", "fifth"]);

    // A second tab of the same site shows the same chat (the panel closed: it was not opened there).
    const { page: tab2 } = await openHost(context, rig.hostUrl({ transport }));
    await tab2.locator(".cw-launcher").click();
    await showsExactly(tab2, ["first", "second", "third", "fourth", "fifth"], "in a second tab");
    await rig.agent.say(chatId, "sixth");
    await showsExactly(tab2, ["first", "second", "third", "fourth", "fifth", "sixth"], "second tab, live");
    await showsExactly(page, ["first", "second", "third", "fourth", "fifth", "sixth"], "first tab, live");
    await tab2.screenshot({ path: join(OUTPUT, `widget-restored-${transport}.png`) });

    // Ending in the first tab ends it in the second.
    await page.getByRole("button", { name: "End chat" }).click();
    await tab2.getByText("The chat has ended.").waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });
}
