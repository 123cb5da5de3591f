//! The `rest` scenario's second half, each part on a fresh server: memory per idle stored
//! session (without user data, and with the ten keys Genesys Widgets attach), the same once
//! the idle chats left memory (`server.idle_chat_eviction_secs`), the same after a restart
//! on those stored chats (and the peak while starting), and
//! `requestChat` latency with an empty queue against the same with the 100,000 idle chats
//! of the memory measurement waiting in the queue (no agent logged in).

use crate::gms::{WIDGET_USER_DATA, create_chats, request_form, request_latency};
use crate::monitor::health;
use crate::procs;
use crate::rest::{
    RestArgs, start_chinwag, start_chinwag_in, start_chinwag_with, summary, tempdir,
};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// One memory measurement: a fresh process, `sessions` chats created and left open; then,
/// with those chats waiting, the `requestChat` latency.
async fn memory(bin: &PathBuf, args: &RestArgs, user_data: bool) -> anyhow::Result<(Value, Value)> {
    let (p, _dir) = start_chinwag(bin)?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = procs::rss_bytes(p.child.id())?;
    let label = if user_data {
        "rest: idle sessions with widget userData"
    } else {
        "rest: idle sessions for memory"
    };
    create_chats(&p.addr, args.sessions, args.connections, label, user_data).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = procs::rss_bytes(p.child.id())?;
    let waiting = health(&p.addr, None).await?["open_sessions"].clone();
    let per_session = after.saturating_sub(before) as f64 / args.sessions.max(1) as f64;
    let lat = request_latency(
        &p.addr,
        args.latency_samples,
        args.latency_connections,
        "rest: requestChat latency, full queue",
    )
    .await?;
    let mem = json!({
        "open_sessions": args.sessions,
        "rss_before_bytes": before,
        "rss_after_bytes": after,
        "bytes_per_session": per_session,
        "request_form_bytes": request_form(0, user_data).len(),
    });
    Ok((mem, json!({"waiting": waiting, "latency": summary(lat)})))
}

/// Memory per idle open chat once evicted: a server evicting chats idle for a second gets
/// `sessions` chats, twice, waiting after each batch until none is held. The first batch's
/// figure includes what the allocator kept of the freed transcripts; the second batch's
/// (the RSS it added) is the steady state, the freed memory being reused.
async fn evicted(bin: &PathBuf, args: &RestArgs) -> anyhow::Result<Value> {
    let (p, _dir) = start_chinwag_with(bin, "[server]\nidle_chat_eviction_secs = 1\n")?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = procs::rss_bytes(p.child.id())?;
    let mut rss = vec![before];
    for batch in 1..=2 {
        let label = format!("rest: idle sessions to evict, batch {batch}");
        create_chats(&p.addr, args.sessions, args.connections, &label, false).await?;
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while health(&p.addr, None).await?["cached_chats"] != 0 {
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "the idle chats did not leave memory within 120 s"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss.push(procs::rss_bytes(p.child.id())?);
    }
    let h = health(&p.addr, None).await?;
    let n = args.sessions.max(1) as f64;
    Ok(json!({
        "idle_chat_eviction_secs": 1,
        "open_sessions": h["open_sessions"],
        "cached_chats": h["cached_chats"],
        "rss_bytes": rss,
        "bytes_per_evicted_chat_first_batch": rss[1].saturating_sub(rss[0]) as f64 / n,
        "bytes_per_evicted_chat_second_batch": rss[2].saturating_sub(rss[1]) as f64 / n,
        "goal": "1,000,000 stored open chats under 500 MB (< 500 bytes each)",
    }))
}

/// Memory of a node restarted on `sessions` stored open chats: a server (evicting chats idle
/// for a second) gets them and is killed (SIGKILL, as in a crash); a server started again on
/// the same database is measured once it listens (its RSS, and its peak so far, `VmHWM`:
/// what starting cost), against what the first server used before any chat existed.
pub(crate) async fn restarted(bin: &PathBuf, args: &RestArgs) -> anyhow::Result<Value> {
    const EVICTING: &str = "[server]\nidle_chat_eviction_secs = 1\n";
    let dir = tempdir::Dir::new()?;
    let p = start_chinwag_in(bin, &dir, EVICTING)?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let empty = procs::rss_bytes(p.child.id())?;
    let label = "rest: stored open chats for the restart";
    create_chats(&p.addr, args.sessions, args.connections, label, false).await?;
    drop(p);
    let started = std::time::Instant::now();
    let p = start_chinwag_in(bin, &dir, EVICTING)?;
    let listening_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = procs::rss_bytes(p.child.id())?;
    let peak = peak_rss_bytes(p.child.id())?;
    let h = health(&p.addr, None).await?;
    let n = args.sessions.max(1) as f64;
    Ok(json!({
        "idle_chat_eviction_secs": 1,
        "stored_open_chats": args.sessions,
        "open_sessions": h["open_sessions"],
        "cached_chats": h["cached_chats"],
        "seconds_until_listening": listening_secs,
        "rss_empty_bytes": empty,
        "rss_after_restart_bytes": rss,
        "peak_rss_after_restart_bytes": peak,
        "bytes_per_stored_chat_after_restart": rss.saturating_sub(empty) as f64 / n,
        "peak_bytes_per_stored_chat_while_starting": peak.saturating_sub(empty) as f64 / n,
        "goal": "1,000,000 stored open chats under 500 MB (< 500 bytes each)",
    }))
}

/// The most resident memory a process has had (`VmHWM`, Linux `/proc`).
fn peak_rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM for pid {pid}"))?;
    Ok(kb * 1024)
}

/// Memory per idle session and `requestChat` latency against the queue's length.
pub(crate) async fn run(bin: &PathBuf, args: &RestArgs) -> anyhow::Result<(Value, Value)> {
    let (empty, _dir) = start_chinwag(bin)?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut lat = request_latency(
        &empty.addr,
        args.latency_samples,
        args.latency_connections,
        "rest: requestChat latency, empty queue",
    )
    .await?;
    let empty_p50 = lat.pct_ms(0.5);
    let empty_p99 = lat.pct_ms(0.99);
    let empty_queue = summary(lat);
    drop(empty);

    let (plain, plain_lat) = memory(bin, args, false).await?;
    let (with_ud, ud_lat) = memory(bin, args, true).await?;
    let evicted = evicted(bin, args).await?;
    let restarted = restarted(bin, args).await?;
    let ratio =
        |v: &Value, k: &str, base: f64| v["latency"][k].as_f64().unwrap_or(0.0) / base.max(1e-9);
    let queue = json!({
        "connections": args.latency_connections,
        "samples": args.latency_samples,
        "method": "requestChat timed, then disconnect (not timed), so the queue keeps its length; no agent logged in",
        "empty_queue": empty_queue,
        "full_queue": plain_lat,
        "full_queue_with_user_data": ud_lat,
        "p50_full_over_empty": ratio(&plain_lat, "p50_ms", empty_p50),
        "p99_full_over_empty": ratio(&plain_lat, "p99_ms", empty_p99),
    });
    let keys: Vec<&str> = WIDGET_USER_DATA.iter().map(|(k, _)| *k).collect();
    let memory = json!({
        "without_user_data": plain,
        "with_widget_user_data": with_ud,
        "evicted_idle_open_chats": evicted,
        "restarted_on_stored_open_chats": restarted,
        "widget_user_data_keys": keys,
        "goal_without_user_data": "< 2048",
    });
    Ok((memory, queue))
}
