//! Scenario `rest`: the GMS REST API under load, beside the ceiling of a trivial axum handler:
//! refresh on idle chats, customer cycles, then (in [`crate::restmem`]) memory per idle
//! session and `requestChat` latency against the length of the queue.

use crate::gms::{create_chats, per_chat, request_chat};
use crate::load::{Conn, Progress, Stats, steady};
use crate::procs::{self, Proc};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Arguments of the `rest` scenario.
#[derive(Debug, clap::Args)]
pub(crate) struct RestArgs {
    /// The chinwag binary (default: `chinwag` next to this executable).
    #[arg(long)]
    chinwag: Option<PathBuf>,
    /// Seconds per measured phase.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    pub(crate) connections: usize,
    /// Idle chats polled in the refresh phase.
    #[arg(long, default_value_t = 1000)]
    chats: usize,
    /// Open sessions created for the memory measurement.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) sessions: usize,
    /// `requestChat` latency samples per queue length.
    #[arg(long, default_value_t = 5000)]
    pub(crate) latency_samples: usize,
    /// Connections taking the `requestChat` latency samples.
    #[arg(long, default_value_t = 8)]
    pub(crate) latency_connections: usize,
    /// Only the memory of a node restarted on `sessions` stored open chats (to compare two
    /// builds: run once with each `--chinwag`).
    #[arg(long)]
    pub(crate) restart_only: bool,
    /// Write the JSON result here instead of stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// The bench server's configuration: the rate limits, abandonment and the queue's maximum
/// wait are off (every chat here comes from one address, and chats are left idle in the
/// queue for as long as a run takes), and a service may hold ten million open chats.
pub(crate) const BENCH_CONFIG: &str = "\
[services.customer-support]
max_sessions = 10000000

[services.customer-support.limits]
new_chats_per_ip = { per_second = 0.0, burst = 0 }
new_chats = { per_second = 0.0, burst = 0 }
requests_per_ip = { per_second = 0.0, burst = 0 }
requests = { per_second = 0.0, burst = 0 }
abandon_after_secs = 0

[queues.default]
max_wait_secs = 0
";

/// Starts a fresh chinwag with [`BENCH_CONFIG`] and an empty store.
pub(crate) fn start_chinwag(bin: &PathBuf) -> anyhow::Result<(Proc, tempdir::Dir)> {
    start_chinwag_with(bin, "")
}

/// [`start_chinwag`] with `extra` appended to the configuration (further tables).
pub(crate) fn start_chinwag_with(
    bin: &PathBuf,
    extra: &str,
) -> anyhow::Result<(Proc, tempdir::Dir)> {
    let dir = tempdir::Dir::new()?;
    Ok((start_chinwag_in(bin, &dir, extra)?, dir))
}

/// [`start_chinwag_with`] on the data of `dir` (a restart when a server ran there before).
pub(crate) fn start_chinwag_in(
    bin: &PathBuf,
    dir: &tempdir::Dir,
    extra: &str,
) -> anyhow::Result<Proc> {
    start_chinwag_config(bin, dir, &format!("{BENCH_CONFIG}\n{extra}"))
}

/// A chinwag on the data of `dir` with exactly `config` (not [`BENCH_CONFIG`]).
pub(crate) fn start_chinwag_config(
    bin: &PathBuf,
    dir: &tempdir::Dir,
    config: &str,
) -> anyhow::Result<Proc> {
    let cfg = dir.0.join("bench.toml");
    std::fs::write(&cfg, config)?;
    let port = procs::free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let args = [
        "serve",
        "--listen",
        &addr,
        "--data-dir",
        &dir.0.join("db").to_string_lossy(),
        "--config",
        &cfg.to_string_lossy(),
    ]
    .map(String::from);
    procs::spawn(bin, &args, addr)
}

pub(crate) mod tempdir {
    /// A temporary directory removed on drop.
    pub(crate) struct Dir(pub(crate) std::path::PathBuf);
    impl Dir {
        pub(crate) fn new() -> std::io::Result<Self> {
            let p = std::env::temp_dir().join(format!(
                "chinwag-bench-{}-{}",
                std::process::id(),
                rand_suffix()
            ));
            std::fs::create_dir_all(&p)?;
            Ok(Self(p))
        }
    }
    fn rand_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Latency summary of a phase.
pub(crate) fn summary(mut s: Stats) -> Value {
    json!({
        "requests": s.requests, "errors": s.errors, "seconds": s.elapsed.as_secs_f64(),
        "requests_per_sec": s.per_sec(), "p50_ms": s.pct_ms(0.50), "p99_ms": s.pct_ms(0.99), "max_ms": s.pct_ms(1.0),
    })
}

/// Customer cycles: request chat, 10 sends, 2 refreshes, disconnect.
async fn cycles(addr: &str, conns: usize, duration: Duration) -> anyhow::Result<(u64, Stats)> {
    let counter = Arc::new(AtomicU64::new(0));
    let _p = Progress::start("rest: customer cycles".into(), counter.clone(), None);
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..conns {
        let (addr, counter) = (addr.to_owned(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await?;
            let (mut stats, mut done) = (Stats::default(), 0u64);
            while Instant::now() < deadline {
                let t = Instant::now();
                let ids = request_chat(&mut conn, w, false).await?;
                stats.record(t);
                let mut steps: Vec<(String, String)> = (0..10)
                    .map(|i| per_chat(&ids, "send", &format!("&message=hello+{i}")))
                    .collect();
                steps.push(per_chat(&ids, "refresh", "&transcriptPosition=1"));
                steps.push(per_chat(&ids, "refresh", "&transcriptPosition=12"));
                steps.push(per_chat(&ids, "disconnect", ""));
                for (path, body) in &steps {
                    let t = Instant::now();
                    let (status, _) = conn.post(path, body).await?;
                    if status == 200 {
                        stats.record(t);
                    } else {
                        stats.errors += 1;
                    }
                }
                done += 1;
                counter.fetch_add(14, Ordering::Relaxed);
            }
            anyhow::Ok((done, stats))
        }));
    }
    let (mut total, mut done) = (Stats::default(), 0);
    for t in tasks {
        let (d, s) = t.await??;
        done += d;
        total.merge(s);
    }
    total.elapsed = started.elapsed();
    Ok((done, total))
}

pub(crate) async fn run(args: RestArgs) -> anyhow::Result<Value> {
    let me = std::env::current_exe()?;
    let bin = args
        .chinwag
        .clone()
        .unwrap_or_else(|| me.with_file_name("chinwag"));
    let duration = Duration::from_secs(args.duration);
    if args.restart_only {
        let restarted = crate::restmem::restarted(&bin, &args).await?;
        return Ok(json!({"scenario": "rest", "restarted": restarted}));
    }

    // Refresh with no new events: ceiling first, then Chinwag, same requests and connections.
    let (chinwag, _dir) = start_chinwag(&bin)?;
    let chats = create_chats(
        &chinwag.addr,
        args.chats,
        args.connections,
        "rest: creating idle chats",
        false,
    )
    .await?;
    let refreshes: Arc<Vec<(String, String)>> = Arc::new(
        chats
            .iter()
            .map(|c| per_chat(c, "refresh", "&transcriptPosition=2&message="))
            .collect(),
    );
    let port = procs::free_port()?;
    let ceiling_addr = format!("127.0.0.1:{port}");
    let ceiling = procs::spawn(
        &me,
        &["ceiling".into(), "--listen".into(), ceiling_addr.clone()],
        ceiling_addr,
    )?;
    let ceil = steady(
        &ceiling.addr,
        refreshes.clone(),
        args.connections,
        duration,
        "rest: ceiling (trivial axum)",
    )
    .await?;
    drop(ceiling);
    let chin = steady(
        &chinwag.addr,
        refreshes,
        args.connections,
        duration,
        "rest: chinwag refresh",
    )
    .await?;
    let ratio = chin.per_sec() / ceil.per_sec().max(1e-9);
    let (done, cyc) = cycles(&chinwag.addr, args.connections, duration).await?;
    let cycles_per_sec = done as f64 / cyc.elapsed.as_secs_f64().max(1e-9);
    drop(chinwag);

    let (memory, queue) = crate::restmem::run(&bin, &args).await?;

    Ok(json!({
        "scenario": "rest",
        "connections": args.connections,
        "seconds_per_phase": args.duration,
        "config": BENCH_CONFIG,
        "refresh_idle": {
            "chinwag": summary(chin),
            "ceiling_trivial_axum": summary(ceil),
            "ratio_to_ceiling": ratio,
            "goal": ">= 0.5",
        },
        "customer_cycles": {
            "cycles_per_sec": cycles_per_sec,
            "requests": summary(cyc),
            "cycle": "request chat, 10 sends, 2 refreshes, disconnect",
        },
        "memory": memory,
        "request_chat_latency": queue,
    }))
}
