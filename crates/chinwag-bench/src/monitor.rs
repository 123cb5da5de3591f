//! Watching a measured server from outside: its `/health` (open sessions, connection
//! counters), and a once-a-second sample of its resident memory, open descriptors and
//! connection counters over a phase.

use crate::load::Conn;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The server's `GET /health` answer, over a new connection from `from`.
pub(crate) async fn health(addr: &str, from: Option<IpAddr>) -> anyhow::Result<Value> {
    let mut conn = Conn::open_from(addr, from).await?;
    let (status, body) = conn.get("/health").await?;
    anyhow::ensure!(status == 200, "/health answered {status}");
    Ok(serde_json::from_slice(&body)?)
}

/// Open descriptors of a process (Linux `/proc`).
pub(crate) fn open_fds(pid: u32) -> Option<usize> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(Iterator::count)
}

/// One sample.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    /// Seconds since the monitor started.
    pub(crate) t: f64,
    pub(crate) rss: u64,
    pub(crate) fds: usize,
    /// `/health` `connections` (`null` when `/health` did not answer within a second).
    pub(crate) connections: Value,
}

/// Samples `pid` (and `/health` at `addr`, asked from `from`) every second until stopped.
pub(crate) struct Monitor {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Vec<Sample>>,
}

impl Monitor {
    pub(crate) fn start(pid: u32, addr: &str, from: Option<IpAddr>) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let addr = addr.to_owned();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut out = Vec::new();
            let mut conn: Option<Conn> = None;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                let connections = ask(&addr, from, &mut conn).await.unwrap_or(Value::Null);
                out.push(Sample {
                    t: started.elapsed().as_secs_f64(),
                    rss: crate::procs::rss_bytes(pid).unwrap_or(0),
                    fds: open_fds(pid).unwrap_or(0),
                    connections,
                });
            }
            out
        });
        Self { stop, task }
    }

    /// Stops sampling; returns the samples.
    pub(crate) async fn finish(self) -> Vec<Sample> {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or_default()
    }
}

/// `/health` `connections`, over a kept connection (reopened when it fails).
async fn ask(addr: &str, from: Option<IpAddr>, conn: &mut Option<Conn>) -> Option<Value> {
    let work = async {
        if conn.is_none() {
            *conn = Some(Conn::open_from(addr, from).await.ok()?);
        }
        let c = conn.as_mut()?;
        match c.get("/health").await {
            Ok((200, body)) => serde_json::from_slice::<Value>(&body)
                .ok()
                .map(|v| v["connections"].clone()),
            _ => {
                *conn = None;
                None
            }
        }
    };
    match tokio::time::timeout(Duration::from_secs(1), work).await {
        Ok(v) => v,
        Err(_) => {
            *conn = None;
            None
        }
    }
}

/// Peak and last values of a phase's samples, and the series itself (one row per second:
/// `[t, rss_mb, fds, open, refused_full, refused_per_address, timed_out]`).
pub(crate) fn summarize(samples: &[Sample]) -> Value {
    let mb = |b: u64| b as f64 / 1_048_576.0;
    let c = |s: &Sample, k: &str| s.connections[k].as_u64();
    let peak_rss = samples.iter().map(|s| s.rss).max().unwrap_or(0);
    let peak_fds = samples.iter().map(|s| s.fds).max().unwrap_or(0);
    let peak_open = samples.iter().filter_map(|s| c(s, "open")).max();
    let last = samples.last();
    let series: Vec<Value> = samples
        .iter()
        .map(|s| {
            json!([
                (s.t * 10.0).round() / 10.0,
                (mb(s.rss) * 10.0).round() / 10.0,
                s.fds,
                c(s, "open"),
                c(s, "refused_full"),
                c(s, "refused_per_address"),
                c(s, "timed_out")
            ])
        })
        .collect();
    json!({
        "peak_rss_mb": mb(peak_rss),
        "end_rss_mb": last.map(|s| mb(s.rss)),
        "peak_fds": peak_fds,
        "end_fds": last.map(|s| s.fds),
        "peak_open_connections": peak_open,
        "end_connections": last.map(|s| s.connections.clone()),
        "series_columns": ["t_s", "rss_mb", "fds", "open", "refused_full", "refused_per_address", "timed_out"],
        "series": series,
    })
}
