//! Scenario `bayeux`: CometD's published benchmark shape (clients × rooms × rooms per
//! client, 50-byte messages, a fixed publish rate in) against Chinwag and, in the same run,
//! the ceiling ([`crate::bceiling`]) and a Faye server (npm `faye`), over WebSocket and
//! long-polling: delivered messages/s, latency p50/p99/max, server RSS and CPU per delivery;
//! then a throughput phase at a higher rate in; then memory per idle connected client at N
//! clients.

use crate::bclient::{self, Kind};
use crate::procs::{self, Proc};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

#[derive(Debug, clap::Args)]
pub(crate) struct BayeuxArgs {
    /// The chinwag binary.
    #[arg(long)]
    pub(crate) chinwag: PathBuf,
    /// The Faye server script (run with node).
    #[arg(long, default_value = "tests/node/faye-server.cjs")]
    faye: PathBuf,
    /// Node.js.
    #[arg(long, default_value = "node")]
    node: PathBuf,
    /// Subscribing clients.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Rooms.
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    /// Rooms per client.
    #[arg(long, default_value_t = 10)]
    rooms_per_client: usize,
    /// Publishes per second in.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Publishing sessions.
    #[arg(long, default_value_t = 10)]
    publishers: usize,
    /// Second phase, for throughput: messages per second in (0 skips it).
    #[arg(long, default_value_t = 5_000)]
    peak_rate: u64,
    /// Publishing sessions in the throughput phase.
    #[arg(long, default_value_t = 40)]
    peak_publishers: usize,
    /// Messages per publish request (one Bayeux batch; CometD's benchmark uses 10).
    #[arg(long, default_value_t = 10)]
    batch: usize,
    /// Seconds of publishing per run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of publishing before those, left out of the latency figures (first
    /// connections, buffers and queues growing to their working size).
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Idle clients for the memory measurement (0 skips it). At most what the server's
    /// connection cap allows: 90 % of its open-file limit (17,884 at 20,000 files).
    #[arg(long, default_value_t = 17_000)]
    idle: usize,
    /// Only this transport (`websocket` or `long-polling`); both when absent.
    #[arg(long)]
    only: Option<String>,
    /// Skip the Faye runs.
    #[arg(long)]
    no_faye: bool,
    /// Skip the ceiling runs (the least work a server can do for this traffic).
    #[arg(long)]
    no_ceiling: bool,
    /// Also measure Faye's idle memory (slow: Faye handshakes 19,000 clients at a crawl).
    #[arg(long)]
    faye_idle: bool,
    /// Write the JSON result here.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

fn start(args: &BayeuxArgs, server: &str, dir: &std::path::Path) -> anyhow::Result<Proc> {
    let port = procs::free_port()?;
    let addr = format!("127.0.0.1:{port}");
    if server == "ceiling" {
        let me = std::env::current_exe()?;
        let a = ["bayeux-ceiling".into(), "--listen".into(), addr.clone()];
        return procs::spawn(&me, &a, addr);
    }
    if server == "faye" {
        let a = [args.faye.to_string_lossy().into_owned(), port.to_string()];
        return procs::spawn(&args.node, &a, addr);
    }
    let cfg = dir.join("bench.toml");
    std::fs::write(
        &cfg,
        // Every client comes from 127.0.0.1: no per-address caps or handshake rate.
        "[server]\nmax_connections_per_ip = 1000000\n\n[cometd]\nbroadcast = true\n\
         max_queue = 1000000\nmax_sessions_per_browser = 100000\n\
         handshakes_per_ip = { per_second = 0.0, burst = 0 }\n",
    )?;
    let a = [
        "serve",
        "--listen",
        &addr,
        "--data-dir",
        &dir.join("db").to_string_lossy(),
        "--config",
        &cfg.to_string_lossy(),
    ]
    .map(String::from);
    procs::spawn(&args.chinwag, &a, addr)
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// One measured phase: `rate` messages/s in from `publishers` sessions.
#[derive(Clone, Copy)]
struct Load {
    rate: u64,
    publishers: usize,
}

/// The p99 of each second's messages (by publish time; seconds with fewer than 1,000
/// samples left out): its median and its worst. A machine stall of a few milliseconds
/// decides a whole run's p99; these show whether it is the server's steady state or one
/// bad second.
fn per_second_p99(seconds: Vec<Vec<u32>>) -> Value {
    let mut p99s: Vec<f64> = seconds
        .into_iter()
        .filter(|s| s.len() >= 1000)
        .map(|mut s| {
            s.sort_unstable();
            pct(&s, 0.99)
        })
        .collect();
    p99s.sort_by(f64::total_cmp);
    let median = p99s.get(p99s.len() / 2).copied();
    json!({"median": median, "worst": p99s.last(), "seconds": p99s.len()})
}

async fn chat_shape(
    args: &BayeuxArgs,
    proc_: &Proc,
    kind: Kind,
    load: Load,
) -> anyhow::Result<Value> {
    let (stop_tx, stop) = watch::channel(false);
    let (ready_tx, mut ready) = tokio::sync::mpsc::channel(args.clients.max(1));
    let measure_from = Arc::new(AtomicU64::new(u64::MAX));
    let mut subs = Vec::new();
    for i in 0..args.clients {
        let rooms: Vec<String> = (0..args.rooms_per_client)
            .map(|k| {
                format!(
                    "/bench/room/{}",
                    (i + k * (args.rooms / args.rooms_per_client).max(1)) % args.rooms
                )
            })
            .collect();
        subs.push(tokio::spawn(bclient::subscriber(
            proc_.addr.clone(),
            kind,
            rooms,
            ready_tx.clone(),
            measure_from.clone(),
            stop.clone(),
        )));
    }
    drop(ready_tx);
    for _ in 0..args.clients {
        if ready.recv().await.is_none() {
            anyhow::bail!("a subscriber failed to connect");
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rooms: Vec<String> = (0..args.rooms)
        .map(|r| format!("/bench/room/{r}"))
        .collect();
    let batch = args.batch.max(1);
    let every =
        Duration::from_micros(1_000_000 * (load.publishers * batch) as u64 / load.rate.max(1));
    let (pstop_tx, pstop) = watch::channel(false);
    let published = Arc::new(AtomicU64::new(0));
    let mut pubs = Vec::new();
    for i in 0..load.publishers {
        let pace = bclient::Pace {
            every,
            offset: every * u32::try_from(i)? / u32::try_from(load.publishers)?,
        };
        pubs.push(tokio::spawn(bclient::publisher(
            proc_.addr.clone(),
            kind,
            rooms.clone(),
            batch,
            pace,
            published.clone(),
            pstop.clone(),
        )));
    }
    let started = Instant::now();
    let started_us = bclient::now_us();
    let cpu_before = procs::cpu_seconds(proc_.child.id()).unwrap_or(f64::NAN);
    measure_from.store(started_us + args.warmup * 1_000_000, Ordering::Relaxed);
    let mut peak_rss = 0;
    while started.elapsed() < Duration::from_secs(args.warmup + args.seconds) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak_rss = peak_rss.max(procs::rss_bytes(proc_.child.id()).unwrap_or(0));
    }
    let _ = pstop_tx.send(true);
    let elapsed = started.elapsed().as_secs_f64();
    // A publisher an overloaded server refused (e.g. Faye answering 408) publishes nothing;
    // the run goes on and reports it.
    let mut failed_publishers = 0;
    // One still opening its session (a server too busy to answer a handshake) is given up
    // on, and counted as failed.
    let give_up = tokio::time::Instant::now() + Duration::from_secs(5);
    for mut p in pubs {
        match tokio::time::timeout_at(give_up, &mut p).await {
            Ok(Ok(Ok(()))) => {}
            Ok(_) => failed_publishers += 1,
            Err(_) => {
                p.abort();
                failed_publishers += 1;
            }
        }
    }
    // A publisher held back by back-pressure finishes its last send after the window.
    let publishing = started.elapsed().as_secs_f64();
    let published = published.load(Ordering::Relaxed);
    // Let in-flight deliveries land (bounded), then stop the subscribers.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cpu = procs::cpu_seconds(proc_.child.id()).unwrap_or(f64::NAN) - cpu_before;
    let _ = stop_tx.send(true);
    let mut lat = Vec::new();
    let mut by_second: Vec<Vec<u32>> = Vec::new();
    let (mut failed, mut last_us, mut connects, mut delivered) = (0, started_us, 0, 0);
    for s in subs {
        match s.await? {
            Ok(seen) => {
                for (&l, &s) in seen.lat.iter().zip(&seen.second) {
                    let s = usize::from(s);
                    if by_second.len() <= s {
                        by_second.resize_with(s + 1, Vec::new);
                    }
                    by_second[s].push(l);
                }
                lat.extend(seen.lat);
                delivered += seen.delivered;
                last_us = last_us.max(seen.last_us);
                connects += seen.connects;
            }
            Err(_) => failed += 1,
        }
    }
    lat.sort_unstable();
    // The rate is taken over the time deliveries really took: from the first publish to the
    // last delivery (never shorter than the publishing window). A server that falls behind
    // (or holds its publishers back) is thus not credited for deliveries that came late.
    let span = elapsed.max((last_us - started_us) as f64 / 1e6);
    let members = args.clients * args.rooms_per_client / args.rooms;
    let expected = published * members as u64;
    eprintln!(
        "  {} published, {} of {} delivered",
        published, delivered, expected
    );
    Ok(json!({
        "transport": kind.name(),
        "published": published,
        "publish_rate_in": published as f64 / publishing,
        "expected_deliveries": expected,
        "delivered": delivered,
        "latency_samples": lat.len(),
        "delivery_span_s": span,
        "connect_replies": connects,
        "delivered_per_sec": delivered as f64 / span,
        "latency_ms": {"p50": pct(&lat, 0.5), "p99": pct(&lat, 0.99), "max": pct(&lat, 1.0)},
        "p99_per_second_ms": per_second_p99(by_second),
        "peak_rss_mb": peak_rss as f64 / 1048576.0,
        "server_cpu_s": cpu,
        "server_cpu_us_per_delivery": cpu * 1e6 / delivered.max(1) as f64,
        "failed_clients": failed,
        "failed_publishers": failed_publishers,
    }))
}

async fn idle_memory(args: &BayeuxArgs, proc_: &Proc, kind: Kind) -> anyhow::Result<Value> {
    let before = procs::rss_bytes(proc_.child.id())?;
    let (stop_tx, stop) = watch::channel(false);
    let (ready_tx, mut ready) = tokio::sync::mpsc::unbounded_channel();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(200));
    let mut tasks = Vec::new();
    for _ in 0..args.idle {
        let permit = gate.clone().acquire_owned().await?;
        let (addr, ready_tx, stop) = (proc_.addr.clone(), ready_tx.clone(), stop.clone());
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        tasks.push(tokio::spawn(bclient::idle(addr, kind, tx, stop)));
        tokio::spawn(async move {
            if rx.recv().await.is_some() {
                let _ = ready_tx.send(());
            }
            drop(permit);
        });
    }
    drop(ready_tx);
    let mut n = 0;
    while ready.recv().await.is_some() {
        n += 1;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = procs::rss_bytes(proc_.child.id())?;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    let per = (after.saturating_sub(before)) as f64 / n.max(1) as f64;
    eprintln!("  {n} idle {} clients: {per:.0} B each", kind.name());
    Ok(
        json!({"transport": kind.name(), "clients": n, "rss_before_mb": before as f64 / 1048576.0, "rss_after_mb": after as f64 / 1048576.0, "bytes_per_client": per}),
    )
}

pub(crate) async fn run(args: BayeuxArgs) -> anyhow::Result<Value> {
    let dir = std::env::temp_dir().join(format!("chinwag-bench-bayeux-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let servers: Vec<&str> = ["ceiling", "chinwag", "faye"]
        .into_iter()
        .filter(|s| !(*s == "ceiling" && args.no_ceiling || *s == "faye" && args.no_faye))
        .collect();
    let mut shape = serde_json::Map::new();
    let mut idle = serde_json::Map::new();
    for server in &servers {
        for kind in [Kind::Ws, Kind::Lp] {
            if args.only.as_deref().is_some_and(|o| o != kind.name()) {
                continue;
            }
            eprintln!("bayeux: {server} {} chat shape", kind.name());
            let p = start(&args, server, &dir)?;
            let cometd = Load {
                rate: args.rate,
                publishers: args.publishers,
            };
            let r = chat_shape(&args, &p, kind, cometd).await?;
            shape.insert(format!("{server}/{}", kind.name()), r);
            drop(p);
            if args.peak_rate > 0 {
                let _ = std::fs::remove_dir_all(dir.join("db"));
                eprintln!("bayeux: {server} {} throughput", kind.name());
                let p = start(&args, server, &dir)?;
                let peak = Load {
                    rate: args.peak_rate,
                    publishers: args.peak_publishers,
                };
                let r = chat_shape(&args, &p, kind, peak).await?;
                shape.insert(format!("{server}/{}/peak", kind.name()), r);
            }
            if args.idle > 0 && (*server == "chinwag" || *server == "faye" && args.faye_idle) {
                let _ = std::fs::remove_dir_all(dir.join("db"));
                eprintln!("bayeux: {server} {} idle memory", kind.name());
                let p = start(&args, server, &dir)?;
                idle.insert(
                    format!("{server}/{}", kind.name()),
                    idle_memory(&args, &p, kind).await?,
                );
            }
            let _ = std::fs::remove_dir_all(dir.join("db"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    // Chinwag's best phase in which everything arrived, over the best Faye managed in any
    // phase (an upper bound of what Faye sustains): a conservative ratio.
    let best = |server: &str, k: &str, complete: bool| {
        [format!("{server}/{k}"), format!("{server}/{k}/peak")]
            .iter()
            .filter_map(|key| shape.get(key))
            .filter(|v| !complete || v["delivered"] == v["expected_deliveries"])
            .filter_map(|v| v["delivered_per_sec"].as_f64())
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
    };
    let ratio = |k: &str| {
        best("chinwag", k, true)
            .zip(best("faye", k, false))
            .map(|(c, f)| c / f.max(1.0))
    };
    // Latency at the CometD shape and throughput at the peak, over the ceiling's.
    let over_ceiling = |k: &str, key: &str, field: &str| {
        let get = |server: &str| {
            shape
                .get(&format!("{server}/{k}{key}"))
                .and_then(|v| v.pointer(field))
                .and_then(Value::as_f64)
        };
        get("chinwag").zip(get("ceiling")).map(|(c, f)| c / f)
    };
    let vs_ceiling = |k: &str| {
        json!({
            "p99": over_ceiling(k, "", "/latency_ms/p99"),
            "p99_per_second_median": over_ceiling(k, "", "/p99_per_second_ms/median"),
            "p50": over_ceiling(k, "", "/latency_ms/p50"),
            "cpu_per_delivery": over_ceiling(k, "", "/server_cpu_us_per_delivery"),
            "peak_delivered": over_ceiling(k, "/peak", "/delivered_per_sec"),
        })
    };
    Ok(json!({
        "scenario": "bayeux",
        "shape": {"clients": args.clients, "rooms": args.rooms, "rooms_per_client": args.rooms_per_client, "rate_in": args.rate, "peak_rate_in": args.peak_rate, "batch": args.batch, "seconds": args.seconds, "message_bytes": 50},
        "chat": shape,
        "idle": idle,
        "chinwag_vs_faye_delivered": {"websocket": ratio("websocket"), "long-polling": ratio("long-polling")},
        "chinwag_over_ceiling": {"websocket": vs_ceiling("websocket"), "long-polling": vs_ceiling("long-polling")},
    }))
}
