// The agent API's OpenAPI document against the real binary: fetched from
// /agent/v1/openapi.json, checked for OpenAPI 3.1's shape, then every operation the binary
// serves is called (a bearer token and a console session, a customer's chats over GMS REST,
// files, errors) and every answer is validated with ajv (JSON Schema 2020-12) against the
// document's schema for that operation and status; an undocumented status fails. A few
// frames of the event stream are validated against `components.schemas.Frame`. Every
// operation of the document must be exercised here, or be listed in NOT_YET.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import Ajv2020 from "ajv/dist/2020.js";
import WebSocket from "ws";
import { startServer, until, AGENT_TOKEN } from "./harness.mjs";
import { Customer, passwordHash, AGENT_ID, AGENT_PASSWORD } from "./console-kit.mjs";

// Operations the document describes that the binary does not serve yet (none today). Each is
// skipped by name below; once it is served, take it off this list and call it in a test.
// (crates/chinwag-agent-api/tests/openapi.rs keeps the same list.)
const NOT_YET = [];

let server;
let doc;
let ajv;
const validators = new Map();
/** operationId -> statuses seen. */
const seen = new Map();

before(async () => {
  server = await startServer({ agentToml: `password_hash = "${passwordHash()}"` });
});
after(async () => {
  await server?.stop();
  server?.cleanup();
});

const api = (path) => `${server.base}/agent/v1${path}`;

/** The document's object at a local `$ref` ("#/a/b"). */
function at(ref) {
  assert.ok(ref.startsWith("#/"), `a local reference: ${ref}`);
  return ref.slice(2).split("/").reduce((o, k) => o?.[k.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
}

/** `schema` with its local references pointed into the document ajv holds as "doc". */
function rooted(schema) {
  if (Array.isArray(schema)) return schema.map(rooted);
  if (schema && typeof schema === "object") {
    return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === "$ref" && v.startsWith("#/") ? `doc${v}` : rooted(v)]));
  }
  return schema;
}

/** A validator for `schema` (a schema of the document), cached by `key`. */
function validator(key, schema) {
  if (!validators.has(key)) validators.set(key, ajv.compile(rooted(schema)));
  return validators.get(key);
}

function validate(key, schema, value, what) {
  const v = validator(key, schema);
  assert.ok(v(value), `${what}: ${JSON.stringify(value)}\n${ajv.errorsText(v.errors, { separator: "\n" })}`);
}

/** The operation with this id: its method, path and object. */
function operation(id) {
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (op?.operationId === id) return { method: method.toUpperCase(), path, op };
    }
  }
  throw new Error(`no operation ${id} in the document`);
}

/**
 * Calls operation `id` and checks the answer against the document: the status must be one
 * the operation lists (or its `default`), and a JSON answer must match that response's
 * schema. `auth`: "bearer" (the demo token), a token string, a `{cookie, csrf}`, or null.
 */
async function call(id, { params = {}, query = "", body, form, auth = "bearer", headers = {} } = {}) {
  const { method, path, op } = operation(id);
  const url = api(path.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k]))) + query;
  const h = { ...headers };
  if (auth === "bearer") h.authorization = `Bearer ${AGENT_TOKEN}`;
  else if (typeof auth === "string") h.authorization = `Bearer ${auth}`;
  else if (auth?.cookie) {
    h.cookie = auth.cookie;
    if (auth.csrf) h["x-chinwag-csrf"] = "1";
  }
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    h["content-type"] = "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await fetch(url, { method, headers: h, body: payload });
  const bytes = Buffer.from(await res.arrayBuffer());
  const status = res.status;
  const what = `${id} (${method} ${path}) ${status}`;
  let response = op.responses[String(status)] ?? op.responses.default;
  assert.ok(response, `${what}: a status the document does not list: ${bytes}`);
  if (response.$ref) response = at(response.$ref);
  let json;
  const json_ = response.content?.["application/json"];
  if (json_) {
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/, what);
    json = JSON.parse(bytes.toString("utf8"));
    validate(`${id} ${status}`, json_.schema, json, what);
  } else if (!response.content) {
    assert.equal(bytes.length, 0, `${what}: a body where the document has none`);
  }
  if (!seen.has(id)) seen.set(id, new Set());
  seen.get(id).add(status);
  return { status, json, bytes, headers: res.headers };
}

const errorCode = (r) => r.json?.error?.code;

test("the document is served without credentials and is OpenAPI 3.1", async () => {
  const res = await fetch(api("/openapi.json"));
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^application\/json/);
  assert.equal(res.headers.get("cache-control"), "no-cache");
  doc = await res.json();
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.equal(typeof doc.info?.title, "string");
  assert.equal(typeof doc.info?.version, "string");
  assert.equal(typeof doc.paths, "object");
  const methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];
  const ids = new Set();
  for (const [path, item] of Object.entries(doc.paths)) {
    assert.ok(path.startsWith("/"), path);
    for (const [key, op] of Object.entries(item)) {
      if (key === "parameters") continue;
      assert.ok(methods.includes(key), `${path}: ${key} is no method`);
      assert.ok(op.operationId && !ids.has(op.operationId), `${path} ${key}: a unique operationId`);
      ids.add(op.operationId);
      assert.ok(Object.keys(op.responses ?? {}).length > 0, `${op.operationId}: responses`);
      for (const scheme of (op.security ?? doc.security).flatMap((s) => Object.keys(s))) {
        assert.ok(doc.components.securitySchemes[scheme], `${op.operationId}: scheme ${scheme}`);
      }
    }
  }
  for (const name of NOT_YET) assert.ok(ids.has(name), `NOT_YET names an operation of the document: ${name}`);
  const schemes = doc.components.securitySchemes;
  assert.equal(schemes.bearer.scheme, "bearer");
  assert.deepEqual([schemes.cookie.in, schemes.csrf.in, schemes.csrf.name], ["cookie", "header", "X-Chinwag-Csrf"]);
  assert.ok(doc.components.schemas.Frame.oneOf.length >= 9);

  ajv = new Ajv2020({ allErrors: true, strictTypes: false, strictRequired: false, allowUnionTypes: true });
  // OpenAPI's own keywords, which JSON Schema does not know.
  ajv.addKeyword("discriminator");
  ajv.addKeyword("components");
  ajv.addSchema({ $id: "doc", components: doc.components });
  // Every schema compiles (strict: an unknown keyword, a typo, fails here).
  for (const name of Object.keys(doc.components.schemas)) validator(name, { $ref: `#/components/schemas/${name}` });
});

for (const name of NOT_YET) {
  test(`${name}: not in the binary yet`, { skip: "documented ahead of the binary" }, () => {});
}

test("console sign-in: refusals, a session, calls with its cookie, sign-out", async () => {
  const creds = { id: AGENT_ID, password: AGENT_PASSWORD };
  let r = await call("signIn", { auth: null, body: creds });
  assert.deepEqual([r.status, errorCode(r)], [403, "forbidden"], "no X-Chinwag-Csrf");
  const csrf = { "x-chinwag-csrf": "1" };
  r = await call("signIn", { auth: null, headers: csrf, body: { ...creds, password: "wrong" } });
  assert.deepEqual([r.status, errorCode(r)], [401, "bad_credentials"]);
  r = await call("signIn", { auth: null, headers: csrf, body: { id: AGENT_ID } });
  assert.deepEqual([r.status, errorCode(r)], [400, "bad_request"]);
  r = await call("signIn", { auth: null, headers: csrf, body: creds });
  assert.equal(r.status, 200);
  assert.equal(r.json.id, AGENT_ID);
  const cookie = r.headers.get("set-cookie").split(";")[0];
  assert.match(cookie, /^chinwag_session=/);

  r = await call("getMe", { auth: { cookie } });
  assert.equal(r.status, 200);
  r = await call("login", { auth: { cookie } });
  assert.deepEqual([r.status, errorCode(r)], [403, "forbidden"], "a cookie's POST without X-Chinwag-Csrf");
  // The harness's only account is the built-in demo one, so the demo sign-in is on.
  r = await call("signInDemo", { auth: null });
  assert.deepEqual([r.status, errorCode(r)], [403, "forbidden"], "no X-Chinwag-Csrf");
  r = await call("signInDemo", { auth: null, headers: csrf });
  assert.equal(r.status, 200);
  assert.equal(r.json.id, AGENT_ID);
  const demo = r.headers.get("set-cookie").split(";")[0];
  r = await call("signOut", { auth: { cookie: demo, csrf: true } });
  assert.equal(r.status, 204);
  r = await call("signOut", { auth: { cookie, csrf: true } });
  assert.equal(r.status, 204);
  r = await call("getMe", { auth: { cookie } });
  assert.deepEqual([r.status, errorCode(r)], [401, "unauthorized"], "the session ended");
});

/** The event stream's frames so far, each validated against `Frame` as it arrives. */
const frames = [];
let stream;

function openStream() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.base.replace(/^http/, "ws")}/agent/v1/events?token=${AGENT_TOKEN}`);
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString());
      validate("Frame", { $ref: "#/components/schemas/Frame" }, frame, `frame ${frame.type}`);
      frames.push(frame);
    });
    ws.once("open", () => {
      // The stream's operation, exercised: its success is the handshake (101).
      seen.set("events", new Set([...(seen.get("events") ?? []), 101]));
      resolve(ws);
    });
    ws.once("error", reject);
  });
}

const frame = (pred, what) => until(() => frames.find(pred), 10000, what);

/** A new customer chat; resolves to its id once it is offered to the demo agent. */
async function offeredChat(subject) {
  const customer = await new Customer(server.base).start({ subject });
  await frame((f) => f.type === "offer" && f.chat_id === customer.chatId, `the offer of ${subject}`);
  return customer;
}

let customer;

test("presence, offers and a chat: every answer and a few stream frames match the document", async () => {
  let r = await call("getMe", { auth: "not-a-token" });
  assert.deepEqual([r.status, errorCode(r)], [401, "unauthorized"]);
  r = await call("getMe", { auth: null });
  assert.deepEqual([r.status, errorCode(r)], [401, "unauthorized"]);
  r = await call("setState", { body: { ready: true } });
  assert.deepEqual([r.status, errorCode(r)], [409, "not_logged_in"]);
  r = await call("login");
  assert.equal(r.status, 200);
  assert.equal(r.json.logged_in, true);
  r = await call("setState", { body: { ready: "yes" } });
  assert.deepEqual([r.status, errorCode(r)], [400, "bad_request"]);

  stream = await openStream();
  await frame((f) => f.type === "status", "the status frame");
  assert.equal(frames[0].type, "status", "the first frame is the status");
  r = await call("setState", { body: { ready: true } });
  assert.equal(r.status, 200);
  await frame((f) => f.type === "state" && f.ready, "the state frame");

  // An offer rejected, then (offered again) accepted.
  const first = await offeredChat("Rejected first");
  r = await call("rejectOffer", { params: { chatId: first.chatId } });
  assert.equal(r.status, 204);
  await frame((f) => f.type === "offer_withdrawn" && f.reason === "rejected", "offer_withdrawn");
  r = await call("rejectOffer", { params: { chatId: "no-such-chat" } });
  assert.deepEqual([r.status, errorCode(r)], [404, "no_such_offer"]);
  r = await call("acceptOffer", { params: { chatId: "no-such-chat" } });
  assert.deepEqual([r.status, errorCode(r)], [404, "no_such_offer"]);
  await until(async () => (await call("getMe")).json.offers.some((o) => o.chat_id === first.chatId), 10000, "the offer again");
  r = await call("acceptOffer", { params: { chatId: first.chatId } });
  assert.equal(r.status, 200);
  assert.equal(r.json.chat_id, first.chatId);
  customer = first;

  const id = first.chatId;
  r = await call("getMe");
  assert.ok(r.json.chats.includes(id));
  r = await call("getChat", { params: { chatId: id }, query: "?from=2" });
  assert.equal(r.status, 200);
  assert.equal(r.json.subject, "Rejected first");
  r = await call("getChat", { params: { chatId: id }, query: "?from=abc" });
  assert.deepEqual([r.status, errorCode(r)], [400, "bad_request"]);
  r = await call("getChat", { params: { chatId: "no-such-chat" } });
  assert.deepEqual([r.status, errorCode(r)], [404, "not_in_chat"]);

  r = await call("sendMessage", { params: { chatId: id }, body: { text: "Hello", message_type: "greeting" } });
  assert.equal(r.status, 200);
  assert.equal(r.json.events[0].kind, "Message");
  r = await call("sendMessage", { params: { chatId: id }, body: { text: "x".repeat(17 * 1024) } });
  assert.deepEqual([r.status, errorCode(r)], [400, "text_too_long"]);
  r = await call("sendMessage", { params: { chatId: id }, body: { text: "Hi", extra: 1 } });
  assert.deepEqual([r.status, errorCode(r)], [400, "bad_request"]);
  for (const typing of [true, false]) {
    r = await call("setTyping", { params: { chatId: id }, body: { typing, text: "Hel" } });
    assert.equal(r.status, 200);
  }
  r = await call("pushUrl", { params: { chatId: id }, body: { url: "https://example.com/help" } });
  assert.equal(r.status, 200);
  r = await call("sendNotice", { params: { chatId: id }, body: { text: "Note" } });
  assert.equal(r.status, 200);
  r = await call("sendNotice", { params: { chatId: id }, body: { text: "Custom", custom: true, attributes: { a: 1 } } });
  assert.equal(r.status, 200);
  assert.equal(r.json.events[0].kind, "CustomNotice");
  r = await call("sendNotice", { params: { chatId: id }, body: { text: "Bad", attributes: [1] } });
  assert.deepEqual([r.status, errorCode(r)], [400, "bad_request"]);

  // The customer's side reaches the stream too: a message, a preview, a read receipt.
  await customer.send("I have a question");
  await customer.op("refresh", { transcriptPosition: "1", message: "typing this" });
  await frame((f) => f.type === "event" && f.event.kind === "Message" && f.event.from.party_type === "Client", "the customer's message");
  await frame((f) => f.type === "typing_preview", "a typing preview");
  r = await call("getChat", { params: { chatId: id } });
  assert.ok(r.json.participants.length >= 2);
});

test("files: upload, list, download, delete, refusals", async () => {
  const id = customer.chatId;
  const form = new FormData();
  form.append("description", "the notes");
  form.append("userData[topic]", "billing");
  form.append("file", new Blob(["hello, files\n".repeat(100)], { type: "text/plain" }), "notes.txt");
  let r = await call("uploadFile", { params: { chatId: id }, form });
  assert.equal(r.status, 200);
  const file = r.json;
  assert.equal(file.user_data.topic, "billing");
  r = await call("listFiles", { params: { chatId: id } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.files, [file]);
  r = await call("downloadFile", { params: { chatId: id, fileId: file.id } });
  assert.equal(r.status, 200);
  assert.equal(r.bytes.toString(), "hello, files\n".repeat(100));
  assert.match(r.headers.get("content-disposition"), /^attachment;/);
  assert.equal(r.headers.get("x-content-type-options"), "nosniff");

  const program = new FormData();
  program.append("file", new Blob([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(120).fill(0)])]), "notes.txt");
  r = await call("uploadFile", { params: { chatId: id }, form: program });
  assert.deepEqual([r.status, errorCode(r)], [415, "file_type_not_allowed"]);
  const noFile = new FormData();
  noFile.append("description", "nothing");
  r = await call("uploadFile", { params: { chatId: id }, form: noFile });
  assert.deepEqual([r.status, errorCode(r)], [400, "bad_request"]);

  r = await call("deleteFile", { params: { chatId: id, fileId: file.id } });
  assert.equal(r.status, 204);
  r = await call("downloadFile", { params: { chatId: id, fileId: file.id } });
  assert.deepEqual([r.status, errorCode(r)], [404, "no_such_file"]);
  r = await call("deleteFile", { params: { chatId: id, fileId: "not-an-id" } });
  assert.deepEqual([r.status, errorCode(r)], [404, "no_such_file"]);
  r = await call("listFiles", { params: { chatId: "no-such-chat" } });
  assert.deepEqual([r.status, errorCode(r)], [404, "not_in_chat"]);
  await frame((f) => f.type === "event" && f.event.kind === "FileDeleted", "the FileDeleted event");
});

test("desk: not-ready reasons, canned responses, transfer and its refusals", async () => {
  let r = await call("getPresence");
  assert.equal(r.status, 200);
  const reasons = r.json.not_ready_reasons;
  assert.ok(reasons.length >= 2);
  r = await call("setState", { body: { ready: false, reason: reasons[1] } });
  assert.deepEqual([r.status, r.json.ready, r.json.reason], [200, false, reasons[1]]);
  await frame((f) => f.type === "state" && f.reason === reasons[1], "a state frame with the reason");
  r = await call("setState", { body: { ready: false, reason: "Not a configured reason" } });
  assert.deepEqual([r.status, errorCode(r)], [400, "bad_request"]);
  r = await call("setState", { body: { ready: true } });
  assert.deepEqual([r.status, r.json.reason], [200, null]);
  r = await call("getCanned");
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.queues.map((q) => q.queue), ["default"]);

  const moved = await offeredChat("Transferred");
  r = await call("acceptOffer", { params: { chatId: moved.chatId } });
  assert.deepEqual([r.status, r.json.queue], [200, "default"]);
  const id = moved.chatId;
  r = await call("transferChat", { params: { chatId: id }, body: { queue: "no-such-queue" } });
  assert.deepEqual([r.status, errorCode(r)], [404, "no_such_queue"]);
  r = await call("transferChat", { params: { chatId: id }, body: { agent: "nobody" } });
  assert.deepEqual([r.status, errorCode(r)], [404, "no_such_agent"]);
  r = await call("transferChat", { params: { chatId: id }, body: { agent: AGENT_ID } });
  assert.deepEqual([r.status, errorCode(r)], [400, "bad_request"], "to oneself");
  r = await call("transferChat", { params: { chatId: id }, body: { queue: "default", agent: "x" } });
  assert.deepEqual([r.status, errorCode(r)], [400, "bad_request"], "both targets");
  r = await call("transferChat", { params: { chatId: id }, body: { queue: "default" } });
  assert.equal(r.status, 200);
  assert.equal(r.json.events[0].kind, "ParticipantLeft");
  // Queued again, it is offered to the only agent serving the queue.
  await until(async () => (await call("getMe")).json.offers.some((o) => o.chat_id === id), 10000, "the transferred chat offered");
  await moved.op("disconnect");
});

test("leave and end: the events, and the chat's end on the stream", async () => {
  let r = await call("leaveChat", { params: { chatId: customer.chatId } });
  assert.equal(r.status, 200);
  assert.equal(r.json.events[0].kind, "ParticipantLeft");
  r = await call("sendMessage", { params: { chatId: customer.chatId }, body: { text: "still here?" } });
  assert.deepEqual([r.status, errorCode(r)], [404, "not_in_chat"]);

  const second = await offeredChat("Ended");
  r = await call("acceptOffer", { params: { chatId: second.chatId } });
  assert.equal(r.status, 200);
  r = await call("endChat", { params: { chatId: second.chatId } });
  assert.equal(r.status, 200);
  await frame((f) => f.type === "chat_ended" && f.chat_id === second.chatId, "chat_ended");
  r = await call("endChat", { params: { chatId: second.chatId } });
  assert.ok([404, 409].includes(r.status), `ending twice: ${r.status}`);
  // The first chat, queued again after the leave, is offered and withdrawn when its customer leaves.
  await customer.op("disconnect");

  r = await call("logout");
  assert.equal(r.status, 204);
  r = await call("acceptOffer", { params: { chatId: second.chatId } });
  assert.ok([404, 409].includes(r.status), `accept logged out: ${r.status}`);
  stream.close();
  const types = new Set(frames.map((f) => f.type));
  for (const t of ["status", "state", "offer", "offer_withdrawn", "event", "typing_preview", "chat_ended"]) {
    assert.ok(types.has(t), `a ${t} frame was validated`);
  }
});

test("errors: the stream's handshake, unknown paths, other methods", async () => {
  let r = await call("events", { auth: null, query: `?token=${AGENT_TOKEN}` });
  assert.deepEqual([r.status, errorCode(r)], [400, "bad_request"], "no WebSocket handshake");
  r = await call("events", { auth: null, query: "?token=nope" });
  assert.deepEqual([r.status, errorCode(r)], [401, "unauthorized"]);
  r = await call("getOpenApi", { auth: null });
  assert.equal(r.status, 200);
  const etag = r.headers.get("etag");
  r = await call("getOpenApi", { auth: null, headers: { "if-none-match": etag } });
  assert.equal(r.status, 304);

  const error = (v) => validate("Error", { $ref: "#/components/schemas/Error" }, v, "an error");
  let res = await fetch(api("/no-such-endpoint"), { headers: { authorization: `Bearer ${AGENT_TOKEN}` } });
  assert.equal(res.status, 404);
  let v = await res.json();
  error(v);
  assert.equal(v.error.code, "not_found");
  res = await fetch(api("/me"), { method: "DELETE", headers: { authorization: `Bearer ${AGENT_TOKEN}` } });
  assert.equal(res.status, 405);
  assert.match(res.headers.get("allow"), /GET/);
  v = await res.json();
  error(v);
  assert.equal(v.error.code, "method_not_allowed");
});

test("supervision: refused to agents; overview, silent monitor, take-over for a supervisor", async () => {
  // A server of its own: a second account turns the demo sign-in (tested above) off.
  const main = server;
  const BOSS = "boss-token-0123";
  server = await startServer({
    extraToml: `[[agents]]\nid = "boss"\nname = "Boss"\ntoken = "${BOSS}"\nqueues = ["default"]\ncapacity = 5\nrole = "supervisor"\n`,
  });
  try {
    let r = await call("getSupervisor");
    assert.deepEqual([r.status, errorCode(r)], [403, "forbidden"], "an agent");
    assert.equal((await call("login")).status, 200);
    assert.equal((await call("setState", { body: { ready: true } })).status, 200);
    const watched = await new Customer(server.base).start({ subject: "Watched" });
    const id = watched.chatId;
    await until(async () => (await call("getMe")).json.offers.some((o) => o.chat_id === id), 10000, "the offer");
    assert.equal((await call("acceptOffer", { params: { chatId: id } })).status, 200);

    r = await call("monitorChat", { params: { chatId: id }, auth: BOSS });
    assert.deepEqual([r.status, errorCode(r)], [409, "not_logged_in"], "a supervisor not logged in");
    assert.equal((await call("login", { auth: BOSS })).status, 200);
    r = await call("getSupervisor", { auth: BOSS });
    assert.equal(r.status, 200);
    const line = r.json.chats.find((c) => c.chat_id === id);
    assert.deepEqual([line?.state, line?.subject, line?.monitored], ["active", "Watched", false]);
    assert.ok(r.json.agents.some((a) => a.id === "demo" && a.load === 1));
    r = await call("monitorChat", { params: { chatId: id }, auth: BOSS });
    assert.deepEqual([r.status, r.json.queue], [200, "default"]);
    assert.ok(r.json.participants.some((p) => p.party_type === "Supervisor" && p.left_ms == null));
    const refreshed = await watched.op("refresh", { transcriptPosition: "1" });
    assert.equal(refreshed.monitored, true, "the customer sees monitored: true");
    r = await call("sendMessage", { params: { chatId: id }, body: { text: "psst" }, auth: BOSS });
    assert.deepEqual([r.status, errorCode(r)], [409, "monitoring"]);
    r = await call("takeOverChat", { params: { chatId: id }, auth: BOSS });
    assert.deepEqual([r.status, r.json.queue], [200, "default"]);
    r = await call("getMe");
    assert.ok(!r.json.chats.includes(id), "the agent no longer has the chat");
    r = await call("sendMessage", { params: { chatId: id }, body: { text: "I'll take it from here" }, auth: BOSS });
    assert.equal(r.status, 200);
    await watched.op("disconnect");
  } finally {
    const own = server;
    server = main;
    await own.stop();
    own.cleanup();
  }
});

test("every operation of the document was exercised with a success, or is listed as not yet served", () => {
  for (const [, item] of Object.entries(doc.paths)) {
    for (const [key, op] of Object.entries(item)) {
      if (key === "parameters") continue;
      const id = op.operationId;
      if (NOT_YET.includes(id)) {
        assert.ok(!seen.has(id), `${id} is listed as not yet served but was called`);
        continue;
      }
      const ok = [...(seen.get(id) ?? [])].some((s) => s < 300);
      assert.ok(ok, `${id}: no successful call checked (${[...(seen.get(id) ?? [])]})`);
    }
  }
});
