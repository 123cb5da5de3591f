// Files from the widget over the GMS file API: the customer uploads (REST `…/file`, CometD
// `chat-ntf`), the agent gets the same bytes; the agent's file is downloaded by the customer
// with the same bytes; a refused file shows the server's code.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startRig, openHost, startChat, until, OUTPUT } from "./widget-harness.mjs";

let rig;
before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig?.close();
});

for (const transport of ["websocket", "rest"]) {
  test(`files both ways over ${transport}`, async () => {
    const context = await rig.browser.newContext({ acceptDownloads: true });
    const { page, problems } = await openHost(context, rig.hostUrl({ transport }));
    await startChat(page);
    const chatId = await rig.agent.acceptNext();
    await page.getByText("Demo Agent joined the chat").waitFor();

    const mine = Buffer.from(`customer notes over ${transport}\n`.repeat(50));
    await page.locator("input[type=file]").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: mine });
    await page.getByRole("button", { name: "Download notes.txt" }).waitFor({ timeout: 15000 });
    const files = await rig.agent.call("GET", `/chats/${chatId}/files`);
    assert.equal(files.files.length, 1);
    const got = await fetch(`${rig.server.base}/agent/v1/chats/${chatId}/files/${files.files[0].id}`, { headers: { authorization: "Bearer demo-agent-token" } });
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), mine);

    // The agent's file, downloaded by the customer.
    const theirs = Buffer.from(`agent reply over ${transport}\n`.repeat(30));
    const form = new FormData();
    form.set("file", new Blob([theirs], { type: "text/plain" }), "reply.txt");
    const up = await fetch(`${rig.server.base}/agent/v1/chats/${chatId}/files`, { method: "POST", headers: { authorization: "Bearer demo-agent-token" }, body: form });
    assert.equal(up.status, 200, await up.text());
    const button = page.getByRole("button", { name: "Download reply.txt" });
    await button.waitFor({ timeout: 15000 });
    const [download] = await Promise.all([page.waitForEvent("download"), button.click()]);
    assert.equal(download.suggestedFilename(), "reply.txt");
    assert.deepEqual(await readFile(await download.path()), theirs);

    // A program is refused by content, whatever its name: the code is shown.
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(64)]);
    await page.locator("input[type=file]").setInputFiles({ name: "harmless.txt", mimeType: "text/plain", buffer: elf });
    await page.locator(".cw-conversation .cw-error[role=alert]", { hasText: "could not be sent (203)" }).waitFor({ timeout: 15000 });
    await until(async () => (await rig.agent.call("GET", `/chats/${chatId}/files`)).files.length === 2, 5000, "two files");
    await page.screenshot({ path: join(OUTPUT, `widget-files-${transport}.png`) });
    assert.deepEqual(problems, []);
    assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
    await context.close();
  });
}
