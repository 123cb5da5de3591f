//! Scenario `idle`: what inactivity control costs while nothing fires. The same number of
//! open chats is created on a fresh server with `[services.customer-support.inactivity_control]`
//! off (the baseline) and on (timeouts of a day, so no timer falls due during the run), in
//! the same run, alternating which goes first from round to round; each server is then left
//! idle for a while. Reported per mode: resident memory and CPU time per chat for creating
//! them and for the idle period, the durable timers armed (counted in the server's SQLite
//! store), and on/off ratios. `--abandon-secs` turns the customers' abandon timers on for
//! both servers (they are on by default in production).

use crate::gms::create_chats;
use crate::monitor::health;
use crate::procs;
use crate::rest::{BENCH_CONFIG, start_chinwag_config, tempdir};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Arguments of the `idle` scenario.
#[derive(Debug, clap::Args)]
pub(crate) struct IdleArgs {
    /// The chinwag binary (default: `chinwag` next to this executable).
    #[arg(long)]
    chinwag: Option<PathBuf>,
    /// Open chats per server.
    #[arg(long, default_value_t = 100_000)]
    chats: usize,
    /// Connections creating them.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds each server is left idle with its chats open.
    #[arg(long, default_value_t = 30)]
    idle_secs: u64,
    /// Customers' abandon timers on both servers (`abandon_after_secs`; 0: off, the other
    /// scenarios' setting): with them on, as by default, the idle timer rides in the same
    /// store call at a chat's creation.
    #[arg(long, default_value_t = 0)]
    abandon_secs: u64,
    /// Measurements per mode (the order alternates: off first in even rounds).
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Write the JSON result here instead of stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// Inactivity control on with timeouts of a day: armed, never due during a run.
const ON: &str = "\
[services.customer-support.inactivity_control]
enabled = true
timeout_alert_secs = 86400
timeout_alert2_secs = 3600
timeout_close_secs = 86400
";

/// Timers in the store by kind (`kind → count`), read from the server's SQLite file while it
/// runs (WAL mode lets a reader in beside the server).
fn timers(db: &Path) -> anyhow::Result<Value> {
    let conn = rusqlite::Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let mut q = conn.prepare("SELECT kind, count(*) FROM timers GROUP BY kind")?;
    let rows = q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = serde_json::Map::new();
    for row in rows {
        let (kind, n) = row?;
        out.insert(kind, json!(n));
    }
    Ok(Value::Object(out))
}

/// Bytes of the files in `dir` (the database, its WAL and shared memory).
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// One fresh server with inactivity control `on` or off: `chats` chats created, then
/// `idle_secs` of nothing.
async fn measure(bin: &PathBuf, args: &IdleArgs, on: bool) -> anyhow::Result<Value> {
    let base = BENCH_CONFIG.replace(
        "abandon_after_secs = 0",
        &format!("abandon_after_secs = {}", args.abandon_secs),
    );
    let dir = tempdir::Dir::new()?;
    let p = start_chinwag_config(bin, &dir, &format!("{base}\n{}", if on { ON } else { "" }))?;
    let pid = p.child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss0, cpu0) = (procs::rss_bytes(pid)?, procs::cpu_seconds(pid)?);
    let label = format!(
        "idle: {} chats, inactivity control {}",
        args.chats,
        if on { "on" } else { "off" }
    );
    let started = Instant::now();
    create_chats(&p.addr, args.chats, args.connections, &label, false).await?;
    let create_secs = started.elapsed().as_secs_f64();
    let (rss1, cpu1) = (procs::rss_bytes(pid)?, procs::cpu_seconds(pid)?);
    tokio::time::sleep(Duration::from_secs(args.idle_secs)).await;
    let (rss2, cpu2) = (procs::rss_bytes(pid)?, procs::cpu_seconds(pid)?);
    let db_dir = dir.0.join("db");
    let armed = timers(&db_dir.join("chinwag.db"))?;
    let h = health(&p.addr, None).await?;
    drop(p);
    let n = args.chats.max(1) as f64;
    Ok(json!({
        "inactivity_control": on,
        "open_sessions": h["open_sessions"],
        "timers_armed": armed,
        "create_seconds": create_secs,
        "rss_empty_bytes": rss0,
        "rss_after_create_bytes": rss1,
        "rss_after_idle_bytes": rss2,
        "rss_bytes_per_chat": rss2.saturating_sub(rss0) as f64 / n,
        "cpu_create_seconds": cpu1 - cpu0,
        "cpu_create_us_per_chat": (cpu1 - cpu0) * 1e6 / n,
        "cpu_idle_seconds": cpu2 - cpu1,
        "cpu_idle_us_per_chat_per_sec": (cpu2 - cpu1) * 1e6 / n / args.idle_secs.max(1) as f64,
        "store_bytes": dir_bytes(&db_dir),
        "store_bytes_per_chat": dir_bytes(&db_dir) as f64 / n,
    }))
}

fn mean(runs: &[Value], key: &str) -> f64 {
    let v: Vec<f64> = runs.iter().filter_map(|r| r[key].as_f64()).collect();
    v.iter().sum::<f64>() / (v.len().max(1) as f64)
}

/// Runs the scenario.
pub(crate) async fn run(args: IdleArgs) -> anyhow::Result<Value> {
    let me = std::env::current_exe()?;
    let bin = args
        .chinwag
        .clone()
        .unwrap_or_else(|| me.with_file_name("chinwag"));
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for round in 0..args.rounds.max(1) {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for mode in order {
            let m = measure(&bin, &args, mode).await?;
            if mode { on.push(m) } else { off.push(m) }
        }
    }
    let keys = [
        "rss_bytes_per_chat",
        "cpu_create_us_per_chat",
        "cpu_idle_us_per_chat_per_sec",
        "store_bytes_per_chat",
    ];
    let mut summary = serde_json::Map::new();
    for k in keys {
        let (a, b) = (mean(&off, k), mean(&on, k));
        summary.insert(
            k.to_owned(),
            json!({"off": a, "on": b, "on_over_off": b / a.abs().max(1e-9)}),
        );
    }
    Ok(json!({
        "scenario": "idle",
        "chats": args.chats,
        "connections": args.connections,
        "idle_secs": args.idle_secs,
        "abandon_after_secs": args.abandon_secs,
        "rounds": args.rounds.max(1),
        "method": "each mode on a fresh server (pinned to CPU 0): chats created over keep-alive connections, no agent logged in (they wait in the queue), then left idle; RSS and CPU from /proc",
        "inactivity_control_on": ON,
        "summary": summary,
        "off": off,
        "on": on,
    }))
}
