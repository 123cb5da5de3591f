//! Where the latency part's time goes, measured over its timed phase beside the figures:
//! the server's CPU seconds (`/proc/<pid>/stat`, user + system), each CPU's busy share
//! (`/proc/stat`: the server is pinned to CPU 0, this process and Chromium share CPU 1),
//! this process's event-loop delay (a late loop delays the sends and the stream ceiling's
//! timestamps alike), and the server's own store commit times and rate-limit refusals from
//! its `/metrics`. Linux only; a part that cannot be read is left out, never guessed.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const TICKS = 100; // USER_HZ on Linux

/** @param {number} pid */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of each CPU. @returns {Map<string, [number, number]>} */
function cpus() {
  const out = new Map();
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^(cpu\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const v = m[2].split(/\s+/).map(Number);
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
      out.set(m[1], [total - v[3] - v[4], total]);
    }
  } catch {
    // not Linux: left out
  }
  return out;
}

/**
 * The store's commit histogram and the rate-limit counter, from the Prometheus text.
 * @param {string} server
 */
async function scrape(server) {
  try {
    const text = await (await fetch(`${server}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    /** @type {Map<string, number>} */
    const buckets = new Map();
    let count = 0;
    let sum = 0;
    let limited = 0;
    for (const line of text.split('\n')) {
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (!line.includes('op="commit"')) {
        if (line.startsWith('chinwag_rate_limited_total')) limited += value;
        continue;
      }
      const le = /le="([^"]+)"/.exec(line);
      if (line.startsWith('chinwag_store_operation_duration_seconds_bucket') && le) buckets.set(le[1], value);
      else if (line.startsWith('chinwag_store_operation_duration_seconds_count')) count = value;
      else if (line.startsWith('chinwag_store_operation_duration_seconds_sum')) sum = value;
    }
    return { buckets, count, sum, limited };
  } catch {
    return null;
  }
}

/**
 * Starts measuring; `stop()` answers the figures over the time between.
 * @param {string} server
 * @param {number | null} pid the server's process id (null: no CPU figure)
 */
export async function startDiag(server, pid) {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const t0 = performance.now();
  const cpu0 = pid === null ? null : cpuOf(pid);
  const per0 = cpus();
  const m0 = await scrape(server);
  return {
    async stop() {
      loop.disable();
      const wall = (performance.now() - t0) / 1000;
      const cpu1 = pid === null ? null : cpuOf(pid);
      const per1 = cpus();
      const m1 = await scrape(server);
      /** @type {Record<string, number>} */
      const busy = {};
      for (const [name, [b1, t1]] of per1) {
        const [b0, tt0] = per0.get(name) || [b1, t1];
        if (t1 > tt0) busy[name] = Math.round(((b1 - b0) / (t1 - tt0)) * 1000) / 1000;
      }
      /** @type {Record<string, number>} */
      const commitBuckets = {};
      if (m0 && m1) for (const [le, v] of m1.buckets) commitBuckets[le] = v - (m0.buckets.get(le) || 0);
      const commits = m0 && m1 ? m1.count - m0.count : null;
      const ms = (/** @type {number} */ ns) => Math.round(ns / 1e4) / 100;
      return {
        wall_s: Math.round(wall * 1000) / 1000,
        server_cpu_s: cpu0 !== null && cpu1 !== null ? Math.round((cpu1 - cpu0) * 100) / 100 : null,
        cpu_busy: busy,
        loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
        node_loop_delay_ms: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
        store_commits: commits,
        store_commit_mean_ms: m0 && m1 && commits ? Math.round(((m1.sum - m0.sum) / commits) * 1e5) / 100 : null,
        store_commit_buckets_s: commitBuckets,
        rate_limited: m0 && m1 ? m1.limited - m0.limited : null,
      };
    },
  };
}
