// Shared test harness: starts the real chinwag binary on a free loopback port with its own
// data directory, and drives the agent side through the agent API.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.CHINWAG_BIN || join(here, "..", "..", "target", "debug", "chinwag");
export const AGENT_TOKEN = "demo-agent-token";
export const SERVICE = "customer-support";
export const CHANNEL = `/service/chatV2/${SERVICE}`;

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or `ms` pass. */
export async function until(check, ms = 10000, what = "condition") {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Starts chinwag; `extraToml` is appended to a config enabling broadcast channels, and
 * `agentToml` (keys, e.g. a `password_hash`) to the demo agent's `[[agents]]` entry.
 */
export async function startServer({ port, dir, extraToml = "", agentToml = "" } = {}) {
  port = port ?? (await freePort());
  dir = dir ?? mkdtempSync(join(tmpdir(), "chinwag-node-"));
  const config = join(dir, "chinwag.toml");
  writeFileSync(config, `[cometd]\nbroadcast = true\n${extraToml}\n\n[[agents]]\nid = "demo"\nname = "Demo Agent"\ntoken = "${AGENT_TOKEN}"\nqueues = ["default"]\ncapacity = 100\n${agentToml}\n`);
  const proc = spawn(BIN, ["serve", "--config", config, "--listen", `127.0.0.1:${port}`, "--data-dir", join(dir, "data")], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "warn" },
  });
  let log = "";
  proc.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  await until(async () => {
    if (proc.exitCode !== null) throw new Error(`chinwag exited: ${log}`);
    try {
      return (await fetch(`${base}/health`)).ok;
    } catch {
      return false;
    }
  }, 20000, "chinwag to start");
  const stop = async (signal = "SIGTERM") => {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill(signal);
    await exited;
  };
  return { port, dir, base, cometd: `${base}/genesys/cometd`, proc, stop, log: () => log, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * One server for a whole test file: started before its tests, stopped after. With
 * CHINWAG_CLUSTER=<n> in the environment, n nodes on one Redis behind nginx round-robin
 * instead (cluster-server.mjs), reached the same way.
 */
export function sharedServer({ before, after }) {
  const shared = {};
  before(async () => {
    const nodes = Number(process.env.CHINWAG_CLUSTER || 0);
    if (nodes > 0) {
      const { startCluster } = await import("./cluster-server.mjs");
      shared.server = await startCluster(nodes);
    } else {
      shared.server = await startServer();
    }
  });
  after(async () => {
    await shared.server.stop();
    shared.server.cleanup();
  });
  return shared;
}

/** The agent side, through the agent API. */
export class Agent {
  constructor(base, token = AGENT_TOKEN) {
    this.base = `${base}/agent/v1`;
    this.token = token;
  }
  async call(method, path, body) {
    const r = await fetch(this.base + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  async ready() {
    await this.call("POST", "/login");
    await this.call("PUT", "/state", { ready: true });
  }
  /** Waits for an offer of `chatId` (any chat when omitted) and accepts it. */
  async acceptNext(chatId) {
    const offer = await until(async () => {
      const me = await this.call("GET", "/me");
      return me.offers.find((o) => !chatId || o.chat_id === chatId);
    }, 10000, "an offer");
    await this.call("POST", `/offers/${offer.chat_id}/accept`);
    return offer.chat_id;
  }
  /** Waits for an offer whose chat view satisfies `pred` (e.g. a userData tag) and accepts it. */
  async acceptWhere(pred, what = "a matching offer") {
    const offer = await until(async () => {
      const me = await this.call("GET", "/me");
      for (const o of me.offers) {
        if (pred(await this.view(o.chat_id))) return o;
      }
      return null;
    }, 10000, what);
    await this.call("POST", `/offers/${offer.chat_id}/accept`);
    return offer.chat_id;
  }
  say(chatId, text) {
    return this.call("POST", `/chats/${chatId}/messages`, { text });
  }
  view(chatId) {
    return this.call("GET", `/chats/${chatId}`);
  }
}

/** A tag unique to this process, to find one's own chat among offers (CometD keys are sealed). */
let tags = 0;
export const uniqueTag = () => `t${process.pid}-${++tags}-${Date.now()}`;

/** Every event index across GMS notifications, in arrival order. */
export const indexes = (notes) => notes.flatMap((n) => (n.messages || []).map((e) => e.index));

/** Asserts indexes arrive strictly increasing (so exactly once, in order). */
export function strictlyIncreasing(list) {
  for (let i = 1; i < list.length; i++) {
    if (list[i] <= list[i - 1]) throw new Error(`index ${list[i]} after ${list[i - 1]}: duplicate or out of order in ${list}`);
  }
}
