//! Scenario `push`: how fast the push worker drains a backlog into a customhttp receiver
//! that answers after a fixed delay (5 ms by default), beside the same binary delivering
//! strictly one push at a time (`concurrency = 1`, the GMS behaviour) in the same run.
//!
//! Each side: sessions subscribe over REST (`GCTI_GMS_PushIncludePayload`,
//! `GCTI_GMS_NotifyRequestor`, one device per session) and send messages while the
//! receiver holds every request, so the whole backlog is queued; then the receiver opens
//! and the time to the last delivery is measured. The receiver checks that every device got
//! each of its events once, in transcript order.

use crate::gms::SERVICE;
use crate::load::{Conn, Progress};
use crate::procs::{self, Proc};
use crate::rest::tempdir;
use axum::extract::State;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Arguments of the `push` scenario.
#[derive(Debug, clap::Args)]
pub(crate) struct PushArgs {
    /// The chinwag binary.
    #[arg(long)]
    chinwag: Option<PathBuf>,
    /// Sessions (= devices) on the concurrent side.
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Sessions on the sequential side (its rate is about 1/delay; fewer keep it short).
    #[arg(long, default_value_t = 200)]
    seq_sessions: usize,
    /// Messages each session sends (each is one push, plus one for the join).
    #[arg(long, default_value_t = 4)]
    messages: usize,
    /// The receiver answers after this many milliseconds.
    #[arg(long, default_value_t = 5)]
    delay_ms: u64,
    /// `push.concurrency` on the concurrent side.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// Connections creating the load.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Write the JSON result here instead of stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// The receiver: holds requests until opened, answers after `delay`, records per device.
#[derive(Default)]
struct Rx {
    open: tokio::sync::watch::Sender<bool>,
    delay: Duration,
    arrived: AtomicU64,
    answered: Arc<AtomicU64>,
    last_ns: AtomicU64,
    t0: Mutex<Option<Instant>>,
    per_device: Mutex<HashMap<String, Vec<i64>>>,
}

async fn receive(State(rx): State<Arc<Rx>>, body: axum::body::Bytes) -> &'static str {
    rx.arrived.fetch_add(1, Ordering::Relaxed);
    let mut open = rx.open.subscribe();
    let _ = open.wait_for(|o| *o).await;
    tokio::time::sleep(rx.delay).await;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let device = v["deviceId"].as_str().unwrap_or("").to_owned();
    let index = v["message"]["messages"][0]["index"].as_i64().unwrap_or(-1);
    rx.per_device
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(device)
        .or_default()
        .push(index);
    if let Some(t0) = *rx
        .t0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        let ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
        rx.last_ns.fetch_max(ns, Ordering::Relaxed);
    }
    rx.answered.fetch_add(1, Ordering::Relaxed);
    "ok"
}

async fn start_receiver(delay: Duration) -> anyhow::Result<(Arc<Rx>, String)> {
    let rx = Arc::new(Rx {
        delay,
        ..Rx::default()
    });
    let app = axum::Router::new()
        .route("/push", axum::routing::post(receive))
        .with_state(rx.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/push", l.local_addr()?);
    tokio::spawn(async move { axum::serve(l, app).await });
    Ok((rx, url))
}

fn start_chinwag(
    bin: &PathBuf,
    url: &str,
    concurrency: usize,
) -> anyhow::Result<(Proc, tempdir::Dir)> {
    let dir = tempdir::Dir::new()?;
    let cfg = dir.0.join("bench.toml");
    std::fs::write(
        &cfg,
        format!(
            "[services.customer-support]\nmax_sessions = 10000000\n\n\
             [services.customer-support.limits]\n{UNLIMITED}\n\
             [push]\nenabled = [\"customhttp\"]\n\
             on_join = true\nconcurrency = {concurrency}\nrequest_timeout_ms = 600000\n\
             [push.customhttp]\nurl = \"{url}\"\n"
        ),
    )?;
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

/// Rate limits and abandonment off: every session of this scenario comes from one address.
const UNLIMITED: &str = "new_chats_per_ip = { per_second = 0.0, burst = 0 }\n\
    new_chats = { per_second = 0.0, burst = 0 }\n\
    requests_per_ip = { per_second = 0.0, burst = 0 }\n\
    abandon_after_secs = 0\n";

/// One session: subscribe, then send `messages`.
async fn session(conn: &mut Conn, n: usize, messages: usize) -> anyhow::Result<()> {
    let form = format!(
        "nickname=p{n}&userData[GCTI_Chat_PushSubscribe]=true&userData[GCTI_GMS_PushDeviceId]=dev{n}\
         &userData[GCTI_GMS_PushDeviceType]=customhttp&userData[GCTI_GMS_PushIncludePayload]=true\
         &userData[GCTI_GMS_NotifyRequestor]=true"
    );
    let (status, body) = conn.post(&format!("{SERVICE}/"), &form).await?;
    anyhow::ensure!(status == 200, "requestChat answered {status}");
    let v: Value = serde_json::from_slice(&body)?;
    let field = |k: &str| v[k].as_str().unwrap_or("").to_owned();
    let (chat, user, key) = (field("chatId"), field("userId"), field("secureKey"));
    for i in 0..messages {
        let path = format!("{SERVICE}/{chat}/send");
        let form = format!("userId={user}&secureKey={key}&alias=1&message=m{i}");
        let (status, _) = conn.post(&path, &form).await?;
        anyhow::ensure!(status == 200, "send answered {status}");
    }
    Ok(())
}

/// CPU seconds (user + system) a process has used.
fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the ")".
    (ticks(11) + ticks(12)) / 100.0
}

async fn side(
    bin: &PathBuf,
    a: &PushArgs,
    label: &str,
    sessions: usize,
    concurrency: usize,
) -> anyhow::Result<Value> {
    let (rx, url) = start_receiver(Duration::from_millis(a.delay_ms)).await?;
    let (proc, _dir) = start_chinwag(bin, &url, concurrency)?;
    let pid = proc.child.id();
    let total = (sessions * (a.messages + 1)) as u64;
    let made = Arc::new(AtomicU64::new(0));
    {
        let _p = Progress::start(
            format!("push {label}: sessions"),
            made.clone(),
            Some(sessions as u64),
        );
        let mut tasks = Vec::new();
        let conns = a.connections.min(sessions).max(1);
        for w in 0..conns {
            let (addr, made, messages) = (proc.addr.clone(), made.clone(), a.messages);
            tasks.push(tokio::spawn(async move {
                let mut conn = Conn::open(&addr).await?;
                for n in (w..sessions).step_by(conns) {
                    session(&mut conn, n, messages).await?;
                    made.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
    }
    // The backlog is queued once the worker has filled its concurrency and stays there.
    let held = concurrency.min(total as usize) as u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while rx.arrived.load(Ordering::Relaxed) < held && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = procs::rss_bytes(pid).unwrap_or(0);
    let cpu0 = cpu_secs(pid);
    *rx.t0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
    rx.open.send_replace(true);
    let _p = Progress::start(
        format!("push {label}: delivered"),
        rx.answered.clone(),
        Some(total),
    );
    let deadline = Instant::now() + Duration::from_secs(600);
    while rx.answered.load(Ordering::Relaxed) < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu = cpu_secs(pid) - cpu0;
    let answered = rx.answered.load(Ordering::Relaxed);
    let secs = rx.last_ns.load(Ordering::Relaxed) as f64 / 1e9;
    let per_device = rx
        .per_device
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let want: Vec<i64> = (1..=(a.messages as i64 + 1)).collect();
    let in_order = per_device.values().filter(|v| **v == want).count();
    Ok(json!({
        "sessions": sessions, "concurrency": concurrency, "pushes": total, "delivered": answered,
        "seconds": secs, "pushes_per_sec": answered as f64 / secs.max(1e-9),
        "devices_complete_in_order": in_order, "devices": per_device.len(),
        "chinwag_cpu_seconds": cpu, "chinwag_cpu_pct": 100.0 * cpu / secs.max(1e-9),
        "chinwag_rss_mb_with_backlog": rss as f64 / 1048576.0,
    }))
}

/// Runs the scenario.
pub(crate) async fn run(a: PushArgs) -> anyhow::Result<Value> {
    let me = std::env::current_exe()?;
    let bin = a
        .chinwag
        .clone()
        .unwrap_or_else(|| me.with_file_name("chinwag"));
    let seq = side(&bin, &a, "sequential", a.seq_sessions, 1).await?;
    let conc = side(&bin, &a, "concurrent", a.sessions, a.concurrency).await?;
    let ratio = conc["pushes_per_sec"].as_f64().unwrap_or(0.0)
        / seq["pushes_per_sec"].as_f64().unwrap_or(1.0).max(1e-9);
    Ok(json!({
        "scenario": "push", "receiver_delay_ms": a.delay_ms, "messages_per_session": a.messages,
        "sequential": seq, "concurrent": conc, "ratio_concurrent_to_sequential": ratio,
        "goal": "≥ 10,000 pushes/s and ≥ 50× sequential, every device in order",
    }))
}
