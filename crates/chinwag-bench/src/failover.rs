//! Scenario `failover`: three nodes on one Redis, `chats` GMS chats over CometD (even
//! customers long-polling, odd ones on WebSocket) spread round-robin over the nodes, an
//! agent on each (agent API, through nodes 1 and 2 only) sending a steady flow of messages.
//! The customers on node 3 (the "affected" ones) are disrupted twice, and the time from the
//! disruption to each one's first new event is measured:
//!
//! 1. *plain reconnect* (the peer): they drop their connection and reconnect to node 1 or 2
//!    with the same `clientId` while node 3 lives (their requests are forwarded or relayed to
//!    it); then they move back to node 3 and settle;
//! 2. *failover*: node 3 is killed with `SIGKILL`; each notices its connection break and
//!    reconnects to node 1 or 2, which takes its session over once node 3's node lease has
//!    run out (see `docs/cluster.md`).
//!
//! At the end every acknowledged message (the agents', and the one each customer sends after
//! each reconnection) is looked for in the customers' transcripts, deduped by index: lost,
//! duplicated (one text at two indexes) and redelivered (one index twice) are counted.

use crate::bclient::Kind;
use crate::fagent;
use crate::fclient::{self, Customer, Move, State, lock};
use crate::procs::{self, Proc};
use crate::redisproc;
use crate::rest::{start_chinwag_with, tempdir};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Arguments of the `failover` scenario.
#[derive(Debug, clap::Args)]
pub(crate) struct FailoverArgs {
    /// The chinwag binary (default: `chinwag` next to this executable).
    #[arg(long)]
    chinwag: Option<PathBuf>,
    /// Chats, each with its own CometD customer.
    #[arg(long, default_value_t = 1000)]
    chats: usize,
    /// Agents sharing the chats.
    #[arg(long, default_value_t = 10)]
    agents: usize,
    /// Each chat gets one agent message per this many milliseconds.
    #[arg(long, default_value_t = 2000)]
    message_interval_ms: u64,
    /// The nodes' `store.lease_ttl_ms` (default: not set, the server's default).
    #[arg(long)]
    lease_ttl_ms: Option<u64>,
    /// Seconds a disruption may take before its unresumed customers count as never resumed.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Write the JSON result here instead of stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// The server's default `store.lease_ttl_ms` (docs/cluster.md).
const DEFAULT_LEASE_TTL_MS: u64 = 1500;

/// Node `i`'s configuration: Redis, a CometD key shared by all nodes, no per-address caps
/// (every customer comes from 127.0.0.1), and the agents.
fn node_config(i: usize, redis: &str, key: &Path, args: &FailoverArgs) -> String {
    let lease = args
        .lease_ttl_ms
        .map(|ms| format!("lease_ttl_ms = {ms}\n"))
        .unwrap_or_default();
    format!(
        "[server]\nnode_id = {}\nmax_connections_per_ip = 1000000\n\n\
         [store]\nurl = \"redis://{redis}\"\n{lease}\n\
         [cometd]\nkey_file = \"{}\"\nmax_sessions_per_browser = 100000\n\
         handshakes_per_ip = {{ per_second = 0.0, burst = 0 }}\n\n{}",
        i + 1,
        key.display(),
        fagent::accounts(args.agents, args.chats)
    )
}

/// Percentiles (ms) of `v`.
fn pcts(mut v: Vec<f64>) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    json!({"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": at(1.0)})
}

/// The disruption `tag` of customer state `s` that began at or after `t0`.
fn disruption(s: &State, tag: &str, t0: Instant) -> Option<fclient::Disruption> {
    s.disruptions
        .iter()
        .rev()
        .find(|d| d.tag == tag && d.began >= t0)
        .cloned()
}

/// Waits (at most `timeout`) until every customer of `who` has resumed from its disruption
/// `tag` begun after `t0`.
async fn wait_resumed(
    states: &[Arc<Mutex<State>>],
    who: &[usize],
    tag: &str,
    t0: Instant,
    timeout: Duration,
) {
    let resumed =
        |i: &usize| disruption(&lock(&states[*i]), tag, t0).is_some_and(|d| d.resumed.is_some());
    while t0.elapsed() < timeout && !who.iter().all(resumed) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The figures of one disruption of the customers `who`, timed from `t0`.
fn phase(states: &[Arc<Mutex<State>>], who: &[usize], tag: &str, t0: Instant) -> Value {
    let ms = |t: Instant| t.saturating_duration_since(t0).as_secs_f64() * 1000.0;
    let (mut all, mut lp, mut ws, mut connected) = (vec![], vec![], vec![], vec![]);
    for &i in who {
        let Some(d) = disruption(&lock(&states[i]), tag, t0) else {
            continue;
        };
        connected.extend(d.connected.map(ms));
        if let Some(r) = d.resumed.map(ms) {
            all.push(r);
            if i % 2 == 0 { lp.push(r) } else { ws.push(r) }
        }
    }
    json!({
        "affected": who.len(),
        "resumed": all.len(),
        "never_resumed": who.len() - all.len(),
        "resume_ms": pcts(all),
        "resume_ms_long_polling": pcts(lp),
        "resume_ms_websocket": pcts(ws),
        "first_successful_connect_ms": pcts(connected),
    })
}

/// CPU seconds used so far by `pids`.
fn cpu(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|&p| procs::cpu_seconds(p).ok())
        .sum()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Transcript indexes below a customer's highest that it never received, per group of
/// customers (node 3's, the others), and by transport.
fn gaps(states: &[Arc<Mutex<State>>]) -> Value {
    let mut out = [[0u64; 2]; 2];
    let mut customers = [[0u64; 2]; 2];
    for (n, s) in states.iter().enumerate() {
        let s = lock(s);
        let top = s.seen.keys().copied().max().unwrap_or(0);
        let missing = (1..=top).filter(|i| !s.seen.contains_key(i)).count() as u64;
        let (group, kind) = (usize::from(n % 3 == 2), n % 2);
        out[group][kind] += missing;
        customers[group][kind] += u64::from(missing > 0);
    }
    let g = |i: usize| {
        json!({"long_polling": {"indexes": out[i][0], "customers": customers[i][0]},
               "websocket": {"indexes": out[i][1], "customers": customers[i][1]}})
    };
    json!({"node_3_customers": g(1), "other_customers": g(0)})
}

/// Lost, duplicated and redelivered messages over the whole run.
fn tally(states: &[Arc<Mutex<State>>], agents: &fagent::Sent) -> Value {
    let mut seen: HashMap<String, u32> = HashMap::new();
    let (mut probes, mut redelivered, mut refused_402, mut errors) = (vec![], 0, 0, 0);
    let mut samples = Vec::new();
    for s in states {
        let s = lock(s);
        for text in s.seen.values() {
            *seen.entry(text.clone()).or_default() += 1;
        }
        probes.extend(s.sent.iter().cloned());
        redelivered += s.redelivered;
        refused_402 += s.refused_402;
        errors += s.errors;
        samples.extend(s.error_samples.iter().take(1).cloned());
    }
    let count = |t: &String| seen.get(t).copied().unwrap_or(0);
    let acked: Vec<&String> = agents.acked.iter().chain(&probes).collect();
    let lost: Vec<&&String> = acked.iter().filter(|t| count(t) == 0).collect();
    let unacked: HashSet<&String> = agents.unacked.iter().collect();
    let duplicated: u32 = acked
        .iter()
        .copied()
        .chain(unacked.iter().copied())
        .map(|t| count(t).saturating_sub(1))
        .sum();
    samples.truncate(5);
    json!({
        "agent_messages_acknowledged": agents.acked.len(),
        "agent_messages_unacknowledged": agents.unacked.len(),
        "customer_messages_acknowledged": probes.len(),
        "lost": lost.len(),
        "lost_samples": lost.iter().take(5).collect::<Vec<_>>(),
        "duplicated": duplicated,
        "redelivered_deduped_by_index": redelivered,
        "missing_indexes": gaps(states),
        "refused_402": refused_402,
        "client_errors": errors,
        "client_error_samples": samples,
    })
}

pub(crate) async fn run(args: FailoverArgs) -> anyhow::Result<Value> {
    let me = std::env::current_exe()?;
    let bin = args
        .chinwag
        .clone()
        .unwrap_or_else(|| me.with_file_name("chinwag"));
    let load_before = loadavg();
    let redis = redisproc::start()?;
    let keys = tempdir::Dir::new()?;
    let key = keys.0.join("cometd.key");
    let mut nodes: Vec<(Proc, tempdir::Dir)> = Vec::new();
    for i in 0..3 {
        nodes.push(start_chinwag_with(
            &bin,
            &node_config(i, &redis.proc.addr, &key, &args),
        )?);
    }
    let addrs: Vec<String> = nodes.iter().map(|(p, _)| p.addr.clone()).collect();
    let taking = tokio::spawn(fagent::take_chats(
        addrs[0].clone(),
        args.agents,
        args.chats,
        Duration::from_secs(120),
    ));

    // Customers, round-robin over the nodes; those of node 3 turn to node 1 or 2 (alternately).
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = mpsc::channel(args.chats + 1);
    let (mut states, mut moves, mut tasks) = (vec![], vec![], vec![]);
    let (mut ready, mut failed) = (0usize, 0usize);
    let started = Instant::now();
    for n in 0..args.chats {
        while n >= ready + failed + 32 {
            match tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await {
                Ok(Some(true)) => ready += 1,
                Ok(Some(false)) => failed += 1,
                _ => anyhow::bail!("customers stopped getting their chats ({ready} ready)"),
            }
        }
        let home = n % 3;
        let fallback = if home == 2 { (n / 3) % 2 } else { home };
        let state = Arc::new(Mutex::new(State::default()));
        let (tx, rx) = mpsc::channel(4);
        let c = Customer {
            n,
            kind: if n % 2 == 0 { Kind::Lp } else { Kind::Ws },
            home: addrs[home].clone(),
            fallback: addrs[fallback].clone(),
            state: state.clone(),
        };
        tasks.push(tokio::spawn(fclient::run(
            c,
            rx,
            ready_tx.clone(),
            stop_rx.clone(),
        )));
        states.push(state);
        moves.push(tx);
    }
    while ready + failed < args.chats {
        match tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await {
            Ok(Some(true)) => ready += 1,
            Ok(Some(false)) => failed += 1,
            _ => anyhow::bail!("customers stopped getting their chats ({ready} ready)"),
        }
    }
    eprintln!(
        "failover: {ready} customers with a chat in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let chats = taking.await??;
    eprintln!("failover: agents took {} chats", chats.len());

    let (flow_tx, flow_rx) = watch::channel(false);
    let interval = Duration::from_millis(args.message_interval_ms);
    let flow = {
        let (addrs, chats) = (addrs[..2].to_vec(), chats.clone());
        tokio::spawn(async move { fagent::flow(&addrs, &chats, 8, interval, flow_rx).await })
    };
    tokio::time::sleep(Duration::from_secs(5)).await;

    let affected: Vec<usize> = (0..args.chats).filter(|n| n % 3 == 2).collect();
    let timeout = Duration::from_secs(args.timeout);
    let survivors: Vec<u32> = nodes[..2]
        .iter()
        .map(|(p, _)| p.child.id())
        .chain([redis.proc.child.id()])
        .collect();

    // 1. Plain reconnect to another node, node 3 alive.
    eprintln!("failover: plain reconnect of {} customers", affected.len());
    let t0 = Instant::now();
    for &n in &affected {
        let addr = addrs[(n / 3) % 2].clone();
        moves[n].send(Move { addr, tag: "plain" }).await?;
    }
    wait_resumed(&states, &affected, "plain", t0, timeout).await;
    let plain = phase(&states, &affected, "plain", t0);
    let back = Instant::now();
    for &n in &affected {
        moves[n]
            .send(Move {
                addr: addrs[2].clone(),
                tag: "back",
            })
            .await?;
    }
    wait_resumed(&states, &affected, "back", back, timeout).await;
    let back = phase(&states, &affected, "back", back);
    tokio::time::sleep(Duration::from_secs(3)).await;

    // 2. kill -9 of node 3.
    eprintln!("failover: kill -9 node 3");
    let load_at_kill = loadavg();
    let cpu0 = cpu(&survivors);
    let t_kill = Instant::now();
    let (victim, _dir) = &mut nodes[2];
    victim.child.kill()?;
    victim.child.wait()?;
    wait_resumed(&states, &affected, "break", t_kill, timeout).await;
    let waited = t_kill.elapsed().as_secs_f64();
    let busy = (cpu(&survivors) - cpu0) / waited;
    let failover = phase(&states, &affected, "break", t_kill);
    let unexpected = (0..args.chats)
        .filter(|n| n % 3 != 2)
        .filter(|&n| disruption(&lock(&states[n]), "break", started).is_some())
        .count();

    // Messages keep flowing a little, then stop; what is in flight arrives.
    tokio::time::sleep(Duration::from_secs(3)).await;
    flow_tx.send(true)?;
    let sent = flow.await??;
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop_tx.send(true)?;
    for t in tasks {
        let _ = t.await;
    }
    let messages = tally(&states, &sent);

    let p = |v: &Value, q: &str| v["resume_ms"][q].as_f64().unwrap_or(f64::NAN);
    let ratio = |q: &str| p(&failover, q) / p(&plain, q).max(1e-9);
    let ttl = args.lease_ttl_ms.unwrap_or(DEFAULT_LEASE_TTL_MS);
    Ok(json!({
        "scenario": "failover",
        "nodes": 3,
        "chats": args.chats,
        "customers": {"long_polling": args.chats.div_ceil(2), "websocket": args.chats / 2},
        "customers_without_a_chat": failed,
        "agents": args.agents,
        "agent_message_interval_ms_per_chat": args.message_interval_ms,
        "plain_reconnect": plain,
        "back_to_node_3": back,
        "failover_kill9": failover,
        "ratio_failover_to_plain": {"p50": ratio("p50"), "p99": ratio("p99")},
        "unaffected_customers_whose_connection_broke": unexpected,
        "messages": messages,
        "survivors_cpu_busy_during_failover": busy,
        "loadavg": {"before": load_before, "at_kill": load_at_kill},
        "settings": {
            "store.lease_ttl_ms": ttl,
            "store.lease_ttl_ms_set_by_bench": args.lease_ttl_ms.is_some(),
            "node_lease_renewed_every_ms": ttl / 3,
            "bound": "a dead owner's sessions are taken over once its node lease has expired: \
                      lease_ttl_ms after its last renewal (renewed every lease_ttl_ms / 3), \
                      plus up to 0.5 s of cached liveness (fixed); a waiting request is held \
                      at most lease_ttl_ms + 1 s, then answered 503 (retry, interval 1 s)",
        },
        "goal": "failover p99 < 2000 ms",
        "note": "every server process pinned to one CPU; resume = first event with an index the \
                 customer had not seen, timed from the kill (or from the order to move)",
    }))
}
