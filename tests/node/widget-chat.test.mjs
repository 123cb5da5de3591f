// The customer widget in Chromium against the real binary: a whole chat over each transport
// (WebSocket, long-polling, REST), typing both ways, the agent's name, read receipts, ending,
// and no CSP violation under a host page allowing only 'self' plus the widget and chat origins.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startRig, agentStream, openHost, startChat, say, transcript, customerTexts, until, OUTPUT } from "./widget-harness.mjs";

let rig;
before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig?.close();
});

for (const [transport, noSockets] of [["websocket", false], ["long-polling", false], ["rest", false], ["websocket", true]]) {
  test(`a whole chat over ${transport}${noSockets ? ", falling back to long-polling" : ""}`, async () => {
    rig.cutter.refuseWebSockets(noSockets);
    const stream = await agentStream(rig);
    const context = await rig.browser.newContext();
    const { page, problems } = await openHost(context, rig.hostUrl({ transport }));
    const sockets = [];
    const posts = [];
    page.on("websocket", (ws) => ws.on("framereceived", () => sockets.push(ws.url())));
    page.on("request", (r) => r.method() === "POST" && r.url().includes("/genesys/cometd") && posts.push(r.url()));
    assert.deepEqual(await page.evaluate(() => Object.getOwnPropertyNames(window).filter((k) => /chinwag/i.test(k))), ["Chinwag"]);

    await startChat(page);
    const input = page.getByLabel("Type your message");
    await until(async () => (await page.evaluate(() => document.querySelector(".chinwag-widget").shadowRoot.activeElement?.className)) === "cw-input", 5000, "focus on the input");
    await page.getByText("Waiting for an agent").waitFor();
    await say(page, "Hello, anyone?");

    const chatId = await rig.agent.acceptNext();
    await page.getByText("Demo Agent joined the chat").waitFor();
    assert.equal(await page.locator(".cw-agent").textContent(), "Demo Agent");
    assert.equal(await page.getByText("Waiting for an agent").count(), 0);

    // Agent types: the widget shows it; the agent's message clears it.
    await rig.agent.call("POST", `/chats/${chatId}/typing`, { typing: true });
    await page.getByText("Demo Agent is typing…").waitFor();
    await rig.agent.say(chatId, "Hi Joan, how can I help?");
    await page.locator(".cw-theirs .cw-text", { hasText: "how can I help" }).waitFor();
    await until(async () => !(await page.locator(".cw-typing").isVisible()), 5000, "typing indicator cleared");
    // The open panel shows it: a read receipt for that message reaches the agent.
    const agentMsg = (await rig.agent.view(chatId)).events.filter((e) => e.kind === "Message" && e.from.party_type === "Agent").at(-1);
    await until(async () => (await stream.events()).some((e) => e.type === "read_receipt" && e.chat_id === chatId && e.index === agentMsg.index), 10000, "a read receipt at the agent");

    // Customer types: the agent sees TypingStarted, then the message.
    await input.pressSequentially("I need a loan", { delay: 5 });
    await until(async () => (await rig.agent.view(chatId)).events.some((e) => e.kind === "TypingStarted" && e.from.party_type === "Client"), 10000, "customer typing at the agent");
    await input.press("Enter");
    await until(async () => (await customerTexts(rig.agent, chatId)).includes("I need a loan"), 10000, "the message at the agent");
    assert.deepEqual(await customerTexts(rig.agent, chatId), ["Hello, anyone?", "I need a loan"]);
    await page.locator("[role=log] .cw-mine .cw-text", { hasText: "I need a loan" }).waitFor();

    const t = await transcript(page);
    assert.deepEqual(t.messages, ["Hello, anyone?", "Hi Joan, how can I help?", "I need a loan"]);
    assert.equal(new Set(t.indexes).size, t.indexes.length, "each event once");
    await page.screenshot({ path: join(OUTPUT, `widget-chat-${transport}${noSockets ? "-fallback" : ""}.png`) });

    // The agent leaves; the customer ends the chat.
    await page.getByRole("button", { name: "End chat" }).click();
    await page.getByText("The chat has ended.").waitFor();
    await until(async () => (await rig.agent.view(chatId)).ended, 10000, "the chat ended at the agent");
    await page.screenshot({ path: join(OUTPUT, `widget-ended-${transport}${noSockets ? "-fallback" : ""}.png`) });

    if (transport === "websocket" && !noSockets) {
      assert.ok(sockets.some((u) => u.includes("/genesys/cometd")), `a WebSocket was used: ${sockets}`);
      assert.equal(posts.length, 0, "no long-polling");
    } else {
      assert.equal(sockets.length, 0, `no WebSocket frames over ${transport}`);
      assert.equal(posts.length > 0, transport !== "rest", `CometD POSTs: ${posts.length}`);
    }
    rig.cutter.refuseWebSockets(false);
    assert.deepEqual(problems, []);
    assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
    await context.close();
    await stream.close();
  });
}

for (const transport of ["websocket", "rest"]) {
  test(`a refused start shows the error on the form over ${transport}`, async () => {
    const context = await rig.browser.newContext();
    const { page } = await openHost(context, rig.hostUrl({ transport, service: "no-such-service" }));
    const seen = [];
    page.on("response", async (r) => r.url().includes("/genesys") && seen.push(`${r.status()} ${r.url()} ${(await r.text().catch(() => "")).slice(0, 200)}`));
    page.on("console", (m) => seen.push(`console ${m.text()}`));
    await startChat(page);
    const error = page.locator(".cw-form .cw-error[role=alert]");
    await error.waitFor({ timeout: 15000 }).catch(async (e) => {
      const root = await page.evaluate(() => document.querySelector(".chinwag-widget").shadowRoot.querySelector(".cw-panel").textContent);
      throw new Error(`${e.message.split("\n")[0]}: panel says ${root}; seen ${seen.join(" | ")}`);
    });
    assert.match(await error.textContent(), /Something went wrong \(\d+\)/);
    assert.ok(await page.getByLabel("First name").isVisible(), "back on the form");
    await page.screenshot({ path: join(OUTPUT, `widget-refused-${transport}.png`) });
    await context.close();
  });
}

test("a start that cannot reach the server shows the error on the form (rest)", async () => {
  const context = await rig.browser.newContext();
  const { page } = await openHost(context, rig.hostUrl({ transport: "rest" }));
  rig.cutter.cut(true);
  try {
    await startChat(page);
    await page.locator(".cw-form .cw-error[role=alert]", { hasText: "Something went wrong" }).waitFor({ timeout: 20000 });
    assert.ok(await page.getByLabel("First name").isVisible(), "back on the form");
  } finally {
    rig.cutter.restore();
  }
  await page.getByRole("button", { name: "Start chat" }).click();
  await page.getByText("Waiting for an agent").waitFor({ timeout: 15000 });
  await context.close();
});
