//! Scenario `abuse`: what legitimate customers see while the server is attacked. Phase A
//! runs the legitimate load ([`crate::legit`]) alone; phase B runs the same load while
//! [`crate::attack`] holds idle sockets, slowloris connections and a `requestChat` flood
//! against the server. Each phase runs on a fresh server with the shipped defaults (every
//! limit on), whose resident memory, descriptors and `/health` connection counters are
//! sampled every second ([`crate::monitor`]).

use crate::attack::{Attack, Plan};
use crate::legit::{self, Shape};
use crate::monitor::{Monitor, summarize};
use crate::procs::{self, Proc};
use crate::rest::tempdir;
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Arguments of the `abuse` scenario.
#[derive(Debug, clap::Args)]
pub(crate) struct AbuseArgs {
    /// The chinwag binary.
    #[arg(long)]
    chinwag: Option<PathBuf>,
    /// Seconds of legitimate load per phase (the first cycle is a warm-up, left out).
    #[arg(long, default_value_t = 75)]
    duration: u64,
    /// Legitimate customers, each from its own address.
    #[arg(long, default_value_t = 200)]
    customers: usize,
    /// Milliseconds between two requests of one customer.
    #[arg(long, default_value_t = 500)]
    interval_ms: u64,
    /// Requests per chat: request, refreshes and sends, disconnect.
    #[arg(long, default_value_t = 16)]
    cycle: usize,
    /// Idle attacking sockets.
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
    /// Idle sockets per attacking address (under `max_connections_per_ip`, 256).
    #[arg(long, default_value_t = 250)]
    idle_per_address: usize,
    /// Slowloris connections.
    #[arg(long, default_value_t = 1_000)]
    slowloris: usize,
    /// Slowloris connections per address.
    #[arg(long, default_value_t = 250)]
    slowloris_per_address: usize,
    /// Milliseconds between two bytes of a slowloris head.
    #[arg(long, default_value_t = 100)]
    trickle_ms: u64,
    /// `requestChat` per second from the flooding address (10× `new_chats_per_ip`'s 1/s).
    #[arg(long, default_value_t = 10.0)]
    flood_rate: f64,
    /// Longest wait for the attack's connections to be open before the load starts.
    #[arg(long, default_value_t = 60)]
    ramp_secs: u64,
    /// Run phase B alone (exploring; the figures need both phases).
    #[arg(long)]
    skip_baseline: bool,
    /// Write the JSON result here instead of stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// The monitor asks `/health` from its own address.
const MONITOR: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 5, 0, 1));

/// A fresh chinwag with the shipped defaults (the configuration names the default service
/// only to say so).
fn start(bin: &PathBuf) -> anyhow::Result<(Proc, tempdir::Dir)> {
    let dir = tempdir::Dir::new()?;
    let cfg = dir.0.join("bench.toml");
    std::fs::write(&cfg, "[services.customer-support]\n")?;
    let addr = format!("127.0.0.1:{}", procs::free_port()?);
    let db = dir.0.join("db").to_string_lossy().into_owned();
    let args = [
        "serve",
        "--listen",
        &addr,
        "--data-dir",
        &db,
        "--config",
        &cfg.to_string_lossy(),
    ]
    .map(String::from);
    Ok((procs::spawn(bin, &args, addr)?, dir))
}

/// CPU seconds of this process (the generator).
fn own_cpu() -> f64 {
    procs::cpu_seconds(std::process::id()).unwrap_or(f64::NAN)
}

/// One phase on a fresh server: optionally the attack first, then the legitimate load.
async fn phase(bin: &PathBuf, args: &AbuseArgs, attack: Option<Plan>) -> anyhow::Result<Value> {
    let (server, _dir) = start(bin)?;
    let pid = server.child.id();
    let monitor = Monitor::start(pid, &server.addr, Some(MONITOR));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut ramp = Value::Null;
    let attack = match attack {
        None => None,
        Some(plan) => {
            let (idle, slow) = (plan.idle as u64, plan.slowloris as u64);
            let a = Attack::start(&server.addr, plan)?;
            let t = Instant::now();
            let deadline = t + Duration::from_secs(args.ramp_secs);
            let c = a.counters.clone();
            while Instant::now() < deadline
                && (c.idle_open.load(Ordering::Relaxed) < idle
                    || c.slow_open.load(Ordering::Relaxed) < slow)
            {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            // Let the first slowloris bytes and flood requests arrive before the load.
            tokio::time::sleep(Duration::from_secs(2)).await;
            ramp = json!({
                "seconds": t.elapsed().as_secs_f64(),
                "idle_open": c.idle_open.load(Ordering::Relaxed),
                "slowloris_open": c.slow_open.load(Ordering::Relaxed),
            });
            Some(a)
        }
    };
    eprintln!("[abuse] legitimate load for {} s", args.duration);
    let rss_at_start = procs::rss_bytes(pid).unwrap_or(0);
    let (cpu0, gen0, t0) = (
        procs::cpu_seconds(pid).unwrap_or(f64::NAN),
        own_cpu(),
        Instant::now(),
    );
    let shape = Shape {
        customers: args.customers,
        interval: Duration::from_millis(args.interval_ms),
        cycle: args.cycle,
        duration: Duration::from_secs(args.duration),
    };
    let legit = legit::run(&server.addr, shape).await?;
    let secs = t0.elapsed().as_secs_f64();
    let server_cpu = (procs::cpu_seconds(pid).unwrap_or(f64::NAN) - cpu0) / secs;
    let generator_cpu = (own_cpu() - gen0) / secs;
    let rss_at_end = procs::rss_bytes(pid).unwrap_or(0);
    let attack_report = attack.map(|a| a.stop());
    // A few seconds with the attack gone, to see what the server gives back.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = procs::rss_bytes(pid).unwrap_or(0);
    let samples = monitor.finish().await;
    let mb = |b: u64| b as f64 / 1_048_576.0;
    Ok(json!({
        "legitimate": legit,
        "attack_ramp": ramp,
        "attack": attack_report,
        "server_cpu_share_during_load": server_cpu,
        "generator_cpu_share_during_load": generator_cpu,
        "rss_mb_at_load_start": mb(rss_at_start),
        "rss_mb_at_load_end": mb(rss_at_end),
        "rss_mb_3s_after_attack_stopped": mb(rss_after),
        "server": summarize(&samples),
    }))
}

pub(crate) async fn run(args: AbuseArgs) -> anyhow::Result<Value> {
    let me = std::env::current_exe()?;
    let bin = args
        .chinwag
        .clone()
        .unwrap_or_else(|| me.with_file_name("chinwag"));
    let plan = Plan {
        idle: args.idle,
        idle_per_address: args.idle_per_address,
        slowloris: args.slowloris,
        slowloris_per_address: args.slowloris_per_address,
        trickle: Duration::from_millis(args.trickle_ms),
        flood_rate: args.flood_rate,
    };
    let a = if args.skip_baseline {
        Value::Null
    } else {
        eprintln!("[abuse] phase A: legitimate load alone (fresh server)");
        phase(&bin, &args, None).await?
    };
    eprintln!("[abuse] phase B: the same load under attack (fresh server)");
    let b = phase(&bin, &args, Some(plan.clone())).await?;
    let p99 = |v: &Value| v["legitimate"]["latency"]["p99_ms"].as_f64().unwrap_or(0.0);
    let ratio = p99(&b) / p99(&a).max(1e-9);
    let errors = |v: &Value| v["legitimate"]["errors"].as_u64().unwrap_or(0);
    Ok(json!({
        "scenario": "abuse",
        "server_config": "shipped defaults (fresh server and store per phase)",
        "attack_plan": {
            "idle": plan.idle, "idle_per_address": plan.idle_per_address,
            "slowloris": plan.slowloris, "slowloris_per_address": plan.slowloris_per_address,
            "trickle_ms": args.trickle_ms, "flood_requests_per_sec": plan.flood_rate,
        },
        "phase_a_baseline": a,
        "phase_b_attacked": b,
        "p99_b_over_a": ratio,
        "legitimate_errors_a_b": [errors(&a), errors(&b)],
        "goal": "p99 in B < 2x p99 in A, no legitimate errors, RSS bounded",
    }))
}
