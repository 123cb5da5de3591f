// File transfer in real headless Chromium, the way Genesys Widgets do it: a page on another
// origin (listed in the service's cors_origins) uploads a real file chosen in an
// <input type=file> through a plain multipart <form> posted to the REST upload endpoint;
// the agent sees the FileUploaded event and downloads the file through the agent API; the
// customer downloads it again through Widgets' hidden multipart form posted to a new tab,
// which Chromium saves as a download. The bytes match the file on disk each time.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startServer, Agent, until, freePort } from "./harness.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SERVICE = "uploads";
let server, pages, browser, origin;

// The page: an upload form and a download form, filled in with the chat's credentials.
const PAGE = (rest, creds) => `<!doctype html><meta charset="utf-8"><title>upload</title>
<form id="up" method="POST" enctype="multipart/form-data" target="sink" action="${rest}/${creds.chatId}/file">
  <input type="hidden" name="userId" value="${creds.userId}">
  <input type="hidden" name="secureKey" value="${creds.secureKey}">
  <input type="hidden" name="alias" value="${creds.alias}">
  <input type="text" name="userData[file-description]" value="March invoice">
  <input type="file" name="file">
  <button id="send" type="submit">Send</button>
</form>
<iframe name="sink" id="sink"></iframe>
<script>
window.download = (fileId) => {
  const f = document.createElement("form");
  f.method = "POST"; f.enctype = "multipart/form-data"; f.target = "_blank";
  f.action = ${JSON.stringify(rest)} + "/${creds.chatId}/file/" + fileId + "/download";
  for (const [k, v] of Object.entries({ userId: "${creds.userId}", secureKey: "${creds.secureKey}", alias: "${creds.alias}" })) {
    const i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; f.appendChild(i);
  }
  document.body.appendChild(f); f.submit();
};
</script>`;

before(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = await startServer({ extraToml: `[services.${SERVICE}]\ncors_origins = ["${origin}"]\n` });
  pages = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(pages.html || "");
  });
  await new Promise((r) => pages.listen(port, "127.0.0.1", r));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
  pages?.close();
  await server?.stop();
  server?.cleanup();
});

test("a page uploads through a form, the agent downloads it, and so does the customer", async () => {
  const rest = `${server.base}/genesys/2/chat/${SERVICE}`;
  const started = await (await fetch(`${rest}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "nickname=Page&userId=&secureKey=&alias=",
  })).json();
  assert.equal(started.statusCode, 0, JSON.stringify(started));
  const agent = new Agent(server.base);
  await agent.ready();
  await agent.acceptNext(started.chatId);

  // A real file on disk: a PNG header and 300 KB of random bytes.
  const file = join(server.dir, "invoice.png");
  const bytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(300_000)]);
  writeFileSync(file, bytes);

  pages.html = PAGE(rest, started);
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(origin + "/");
  await page.setInputFiles("input[type=file]", file);
  await page.click("#send");

  // The agent sees the upload with its details, then downloads it.
  const uploaded = await until(async () => {
    const view = await agent.view(started.chatId);
    return (view.events || view.messages || []).find((e) => (e.type || e.kind) === "FileUploaded");
  }, 15000, "FileUploaded in the agent's view");
  const details = uploaded.userData || uploaded.user_data;
  assert.equal(details["file-name"], "invoice.png");
  assert.equal(details["file-size"], String(bytes.length));
  assert.equal(details["file-description"], "March invoice");
  const fileId = details["file-id"];
  const got = await fetch(`${server.base}/agent/v1/chats/${started.chatId}/files/${fileId}`, {
    headers: { authorization: `Bearer ${agent.token}` },
  });
  assert.equal(got.status, 200);
  assert.equal(got.headers.get("x-content-type-options"), "nosniff");
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(bytes), "the agent's bytes match the file");

  // The customer downloads it through a hidden form posted to a new tab: a download.
  const downloaded = new Promise((resolve) => {
    page.on("download", resolve);
    context.on("page", (tab) => tab.on("download", resolve));
  });
  await page.evaluate((id) => window.download(id), fileId);
  const download = await Promise.race([downloaded, new Promise((r) => setTimeout(() => r(null), 15000))]);
  assert.ok(download, "the form's answer is saved as a download");
  assert.equal(download.suggestedFilename(), "invoice.png");
  const saved = join(server.dir, "saved.png");
  await download.saveAs(saved);
  assert.ok(readFileSync(saved).equals(bytes), "the customer's bytes match the file");
  await context.close();
});
