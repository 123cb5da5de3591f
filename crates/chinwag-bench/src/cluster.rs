//! Scenario `cluster`: one node on the embedded SQLite store against `nodes` nodes on one
//! Redis, in the same run, with the same load: refreshes with nothing new on idle chats, then
//! sends, spread evenly over the nodes (each node's connections send to their own chats).
//! Every server process (the nodes and Redis) is pinned to the same CPU, so the comparison
//! is of work per request on one core, not of parallelism. Then the Redis commands of one
//! refresh and one send, counted with `MONITOR` (commands from clients, not those a script
//! runs): on a chat only the serving node holds, and on one another node holds too.

use crate::gms::{Ids, create_chats, per_chat};
use crate::load::{Conn, Stats, steady};
use crate::procs::{self, Proc};
use crate::redisproc::{self, Counts, Monitor};
use crate::rest::{start_chinwag, start_chinwag_with, summary, tempdir};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of the `cluster` scenario.
#[derive(Debug, clap::Args)]
pub(crate) struct ClusterArgs {
    /// The chinwag binary (default: `chinwag` next to this executable).
    #[arg(long)]
    chinwag: Option<PathBuf>,
    /// Seconds per measured phase.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Concurrent connections (spread over the nodes).
    #[arg(long, default_value_t = 30)]
    connections: usize,
    /// Idle chats created before the measured phases.
    #[arg(long, default_value_t = 1000)]
    chats: usize,
    /// Nodes on Redis.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Operations of each kind whose Redis commands are counted.
    #[arg(long, default_value_t = 500)]
    counted: usize,
    /// Write the JSON result here instead of stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// Refreshes then sends against `addrs`, each with `conns / addrs.len()` connections and its
/// own share of `chats`.
async fn phases(
    addrs: &[String],
    chats: &[Ids],
    conns: usize,
    duration: Duration,
    label: &str,
) -> anyhow::Result<(Stats, Stats)> {
    let share = chats.len().div_ceil(addrs.len());
    let per_node = (conns / addrs.len()).max(1);
    let mut out = Vec::new();
    for (op, extra) in [
        ("refresh", "&transcriptPosition=2&message="),
        ("send", "&message=cluster+bench"),
    ] {
        let runs = addrs.iter().zip(chats.chunks(share)).map(|(addr, mine)| {
            let requests = Arc::new(mine.iter().map(|c| per_chat(c, op, extra)).collect());
            let label = format!("cluster: {label} {op} via {addr}");
            async move { steady(addr, requests, per_node, duration, &label).await }
        });
        let mut total = Stats::default();
        for s in futures_util::future::try_join_all(runs).await? {
            total.elapsed = total.elapsed.max(s.elapsed);
            total.merge(s);
        }
        out.push(total);
    }
    let send = out.pop().unwrap_or_default();
    let refresh = out.pop().unwrap_or_default();
    Ok((refresh, send))
}

/// CPU seconds used so far by the processes `pids`, together.
fn cpu(pids: &[u32]) -> anyhow::Result<f64> {
    pids.iter().map(|&p| procs::cpu_seconds(p)).sum()
}

/// Throughput and CPU per request of one configuration.
async fn measure(
    addrs: &[String],
    pids: &[u32],
    args: &ClusterArgs,
    label: &str,
) -> anyhow::Result<Value> {
    let chats = create_chats(
        &addrs[0],
        args.chats,
        8,
        &format!("cluster: {label} chats"),
        false,
    )
    .await?;
    let cpu0 = cpu(pids)?;
    let (refresh, send) = phases(
        addrs,
        &chats,
        args.connections,
        Duration::from_secs(args.duration),
        label,
    )
    .await?;
    let used = cpu(pids)? - cpu0;
    let requests = (refresh.requests + send.requests).max(1) as f64;
    let rss: u64 = pids.iter().filter_map(|&p| procs::rss_bytes(p).ok()).sum();
    Ok(json!({
        "refresh": summary(refresh),
        "send": summary(send),
        "server_cpu_ms_per_request": used * 1000.0 / requests,
        "server_rss_bytes": rss,
    }))
}

/// Node `i` of a cluster on the Redis at `redis`.
fn node(bin: &PathBuf, redis: &str, i: usize) -> anyhow::Result<(Proc, tempdir::Dir)> {
    start_chinwag_with(
        bin,
        &format!(
            "[store]\nurl = \"redis://{redis}\"\n\n[server]\nnode_id = {}\n",
            i + 1
        ),
    )
}

/// Round trips to Redis of `counted` refreshes and `counted` sends through `addr`, per op.
async fn round_trips(
    redis: &str,
    addr: &str,
    chats: &[Ids],
    counted: usize,
) -> anyhow::Result<Value> {
    let mut conn = Conn::open(addr).await?;
    // Every chat read once through this node first: what is counted is the steady state.
    for c in chats {
        let (path, body) = per_chat(c, "refresh", "&transcriptPosition=1");
        conn.post(&path, &body).await?;
    }
    let mut result = serde_json::Map::new();
    for (op, extra) in [
        ("refresh_nothing_new", "&transcriptPosition=2&message="),
        ("send", "&message=counted"),
    ] {
        let name = if op == "send" { "send" } else { "refresh" };
        redisproc::quiet(redis).await?;
        let monitor = Monitor::start(redis).await?;
        for c in chats.iter().cycle().take(counted) {
            let (path, body) = per_chat(c, name, extra);
            let (status, _) = conn.post(&path, &body).await?;
            anyhow::ensure!(status == 200, "{op}: HTTP {status}");
        }
        let counts: Counts = monitor.stop().await;
        let per_op: serde_json::Map<String, Value> = counts
            .iter()
            .map(|(k, v)| (k.clone(), json!(*v as f64 / counted as f64)))
            .collect();
        result.insert(op.into(), Value::Object(per_op));
    }
    Ok(Value::Object(result))
}

pub(crate) async fn run(args: ClusterArgs) -> anyhow::Result<Value> {
    let me = std::env::current_exe()?;
    let bin = args
        .chinwag
        .clone()
        .unwrap_or_else(|| me.with_file_name("chinwag"));

    let (single, _single_dir) = start_chinwag(&bin)?;
    let sqlite = measure(
        std::slice::from_ref(&single.addr),
        &[single.child.id()],
        &args,
        "1 node, SQLite",
    )
    .await?;
    drop(single);

    let redis = redisproc::start()?;
    let mut nodes = Vec::new();
    for i in 0..args.nodes {
        nodes.push(node(&bin, &redis.proc.addr, i)?);
    }
    let addrs: Vec<String> = nodes.iter().map(|(p, _)| p.addr.clone()).collect();
    let mut pids: Vec<u32> = nodes.iter().map(|(p, _)| p.child.id()).collect();
    pids.push(redis.proc.child.id());
    let label = format!("{} nodes, Redis", args.nodes);
    let cluster = measure(&addrs, &pids, &args, &label).await?;

    // Round trips of the serving node alone (it created the chats, no other node holds
    // them), then with the chat also held by the node that created it, which catches up
    // after each send (the cost of another node's cached copy).
    let serving = addrs.get(1).unwrap_or(&addrs[0]);
    let own = create_chats(serving, 50, 4, "cluster: chats for counting", false).await?;
    let alone = round_trips(&redis.proc.addr, serving, &own, args.counted).await?;
    let elsewhere = create_chats(&addrs[0], 50, 4, "cluster: chats for counting", false).await?;
    let shared = round_trips(&redis.proc.addr, serving, &elsewhere, args.counted).await?;

    let ratio = |op: &str| {
        let rate = |v: &Value| v[op]["requests_per_sec"].as_f64().unwrap_or(0.0);
        rate(&cluster) / rate(&sqlite).max(1e-9)
    };
    Ok(json!({
        "scenario": "cluster",
        "connections": args.connections,
        "seconds_per_phase": args.duration,
        "chats": args.chats,
        "nodes": args.nodes,
        "one_node_sqlite": sqlite,
        "nodes_on_redis": cluster,
        "ratio_redis_cluster_to_sqlite": { "refresh": ratio("refresh"), "send": ratio("send") },
        "redis_commands_per_op": {
            "serving_node_alone": alone,
            "chat_also_held_by_another_node": shared,
        },
        "round_trips_goal": "refresh with nothing new: 1; send: 1 (one script)",
        "note": "every server process pinned to one CPU: work per request, not parallelism",
    }))
}
