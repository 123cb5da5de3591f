// deploy/systemd/chinwag.service: `systemd-analyze verify` and its offline security score
// when systemd-analyze is installed, and in any case the binary started with exactly the
// unit's command lines (paths substituted), its environment and working directory, until
// /health answers, then stopped with the unit's KillSignal within its TimeoutStopSec.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFileSync, writeFileSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { BIN, freePort, until } from "./harness.mjs";
import { DEPLOY, tempDir, run } from "./deploy-helper.mjs";

const UNIT = join(DEPLOY, "systemd", "chinwag.service");
const ctx = {};

/** The unit's [Service] settings: key → every value, in order. */
function serviceSettings(text) {
  const out = {};
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = head[1];
      continue;
    }
    const eq = line.indexOf("=");
    if (section !== "Service" || eq < 0) continue;
    (out[line.slice(0, eq)] ||= []).push(line.slice(eq + 1));
  }
  return out;
}

/** A systemd time span ("45s", "2min", "90") in seconds. */
function seconds(span) {
  const m = /^(\d+)\s*(s|sec|min|m)?$/.exec(span.trim());
  assert.ok(m, `time span ${span}`);
  return Number(m[1]) * (m[2] === "min" || m[2] === "m" ? 60 : 1);
}

const hasAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;

before(() => {
  ctx.dir = tempDir("systemd");
  ctx.text = readFileSync(UNIT, "utf8");
  ctx.unit = serviceSettings(ctx.text);
});

after(() => {
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

test("systemd: systemd-analyze verify finds nothing, and the sandbox scores at most 2.0", { skip: !hasAnalyze && "systemd-analyze not installed" }, () => {
  const dir = join(ctx.dir, "verify");
  mkdirSync(dir);
  const file = join(dir, "chinwag.service");
  // verify checks that the command exists: point it at the binary under test.
  writeFileSync(file, ctx.text.split("/usr/local/bin/chinwag").join(BIN));
  const r = spawnSync("systemd-analyze", ["verify", file]);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  // Unknown or misspelt settings are only warnings: there must be none.
  assert.equal(`${r.stdout}${r.stderr}`.trim(), "");
  // Exposure in tenths: 20 = 2.0 ("OK"); loosening the sandbox raises it.
  run("systemd-analyze", ["security", "--offline=yes", "--threshold=20", file]);
});

test("systemd: the unit's settings agree with Chinwag's drain and data directory", () => {
  const u = ctx.unit;
  const start = u.ExecStart[0].split(/\s+/);
  const dataDir = start[start.indexOf("--data-dir") + 1];
  assert.equal(dataDir, `/var/lib/${u.StateDirectory[0]}`, "--data-dir is the StateDirectory");
  assert.equal(u.WorkingDirectory[0], dataDir);
  assert.deepEqual(u.KillSignal, ["SIGTERM"]);
  // Chinwag drains within 10 s (requests) + 5 s (push hand-over).
  assert.ok(seconds(u.TimeoutStopSec[0]) > 15, "TimeoutStopSec above the drain");
  assert.ok(Number(u.LimitNOFILE[0]) >= 65536, "LimitNOFILE raised");
  assert.deepEqual(u.Restart, ["on-failure"]);
  for (const k of ["NoNewPrivileges", "ProtectHome", "PrivateTmp"]) assert.deepEqual(u[k], ["yes"], k);
  assert.deepEqual(u.ProtectSystem, ["strict"]);
});

test("systemd: the unit's command lines start Chinwag, which answers /health and stops cleanly on KillSignal", async () => {
  const u = ctx.unit;
  const port = await freePort();
  const etc = join(ctx.dir, "etc");
  const state = join(ctx.dir, "state");
  mkdirSync(etc);
  mkdirSync(state);
  const config = join(etc, "chinwag.toml");
  writeFileSync(config, `[server]\nlisten = "127.0.0.1:${port}"\n`);
  const argv = (line) =>
    line
      .split(/\s+/)
      .map((a) => ({ "/usr/local/bin/chinwag": BIN, "/etc/chinwag/chinwag.toml": config, "/var/lib/chinwag": state })[a] ?? a);
  const env = { ...process.env };
  for (const e of u.Environment || []) {
    const [k, ...v] = e.split("=");
    env[k] = v.join("=");
  }
  const cwd = u.WorkingDirectory[0] === "/var/lib/chinwag" ? state : u.WorkingDirectory[0];

  for (const line of u.ExecStartPre || []) {
    const [cmd, ...args] = argv(line);
    const r = spawnSync(cmd, args, { env, cwd, timeout: 30000 });
    assert.equal(r.status, 0, `ExecStartPre ${line}: ${r.stderr}`);
  }
  const [cmd, ...args] = argv(u.ExecStart[0]);
  const proc = spawn(cmd, args, { env, cwd, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr.on("data", (d) => (log += d));
  const exited = new Promise((r) => proc.once("exit", (code, signal) => r({ code, signal })));
  try {
    const h = await until(async () => {
      if (proc.exitCode !== null) throw new Error(`chinwag exited: ${log}`);
      try {
        const r = await fetch(`http://127.0.0.1:${port}/health`);
        return r.ok && (await r.json());
      } catch {
        return false;
      }
    }, 20000, "chinwag to answer /health");
    assert.equal(h.status, "ok");
    assert.ok(existsSync(join(state, "chinwag.db")), "the store is in the data directory given by ExecStart");
  } finally {
    proc.kill(u.KillSignal[0]);
    const stopBy = setTimeout(() => proc.kill("SIGKILL"), seconds(u.TimeoutStopSec[0]) * 1000);
    const end = await exited;
    clearTimeout(stopBy);
    assert.deepEqual(end, { code: 0, signal: null }, `a clean exit on ${u.KillSignal[0]}: ${log}`);
  }
});
