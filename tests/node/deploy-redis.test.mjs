// deploy/redis/redis.conf, for real: redis-server started with the shipped file itself (port
// and dir overridden on the command line), checked for its settings and for what they are
// there for: a full Redis refuses writes instead of evicting chats, and an acknowledged
// write survives `kill -9`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { rmSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { freePort, until } from "./harness.mjs";
import { DEPLOY, startProcess, tempDir, run } from "./deploy-helper.mjs";

const ctx = {};
const CONF = join(DEPLOY, "redis", "redis.conf");

const start = () => startProcess("redis-server", [CONF, "--port", String(ctx.port), "--dir", ctx.dir], { ports: [ctx.port], what: "redis-server" });
const cli = (...args) => run("redis-cli", ["-p", String(ctx.port), ...args]).trim();
/** Commands one per line on redis-cli's input; one reply line each. */
function pipe(lines) {
  const r = spawnSync("redis-cli", ["-p", String(ctx.port)], { input: lines.join("\n") + "\n", maxBuffer: 1 << 26, timeout: 30000 });
  if (r.status !== 0) throw new Error(`redis-cli: ${r.stderr}`);
  return r.stdout.toString().trim().split("\n");
}

before(async () => {
  ctx.dir = tempDir("redis");
  ctx.port = await freePort();
  ctx.redis = await start();
});

after(async () => {
  await ctx.redis?.stop();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

test("redis.conf: append-only file, fsync every second, no eviction, protected", () => {
  const expect = {
    appendonly: "yes",
    appendfsync: "everysec",
    "maxmemory-policy": "noeviction",
    "protected-mode": "yes",
    "aof-use-rdb-preamble": "yes",
    "enable-debug-command": "no",
    dir: ctx.dir,
  };
  for (const [key, value] of Object.entries(expect)) {
    assert.equal(cli("CONFIG", "GET", key), `${key}\n${value}`);
  }
  assert.ok(readdirSync(join(ctx.dir, "appendonlydir")).some((f) => f.endsWith(".manifest")), "the AOF is in the data dir");
});

test("redis.conf: a full Redis refuses writes and evicts nothing", () => {
  cli("SET", "chat:first", "kept");
  const used = Number(/used_memory:(\d+)/.exec(cli("INFO", "memory"))[1]);
  cli("CONFIG", "SET", "maxmemory", String(used + 2 * 1024 * 1024));
  try {
    const replies = pipe(Array.from({ length: 60 }, (_, i) => `SET fill:${i} ${"x".repeat(100000)}`));
    assert.ok(replies.includes("OK"), "writes below the limit");
    assert.ok(replies.some((r) => r.startsWith("OOM")), `writes beyond it refused: ${[...new Set(replies)]}`);
    assert.equal(cli("GET", "chat:first"), "kept");
    assert.match(cli("INFO", "stats"), /evicted_keys:0\r?\n/);
  } finally {
    cli("CONFIG", "SET", "maxmemory", "0");
  }
});

test("redis.conf: an acknowledged write survives kill -9", async () => {
  assert.equal(cli("SET", "chat:durable", "yes"), "OK");
  ctx.redis.proc.kill("SIGKILL");
  await new Promise((r) => (ctx.redis.proc.exitCode !== null || ctx.redis.proc.signalCode !== null ? r() : ctx.redis.proc.once("exit", r)));
  ctx.redis = await start();
  // Answers -LOADING until the AOF is read.
  await until(() => !cli("PING").startsWith("LOADING"), 20000, "the AOF to load");
  assert.equal(cli("GET", "chat:durable"), "yes");
  assert.equal(cli("GET", "chat:first"), "kept");
});
