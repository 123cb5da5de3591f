//! CometD sessions across nodes, more (see `cluster_bayeux.rs`): sessions held by a node
//! cost Redis nothing while idle (no per-session renewal: an owner's liveness is its node
//! lease), and broadcasts cross the real binaries, following a subscriber whose session
//! was taken over.

use crate::adv_cometd::bounded;
use crate::cluster_bayeux::Client;
use crate::common::*;
use chinwag_redis_testkit::RedisServer;
use serde_json::json;
use std::time::{Duration, Instant};

/// Reads what `MONITOR` on `redis` shows for `window`: one line per command run.
async fn monitor(redis: &RedisServer, window: Duration) -> R<Vec<String>> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut conn = tokio::net::TcpStream::connect(redis.addr()).await?;
    conn.write_all(b"MONITOR\r\n").await?;
    let mut lines = BufReader::new(conn).lines();
    let first = lines.next_line().await?.ok_or("MONITOR: no answer")?;
    assert_eq!(first, "+OK");
    let mut seen = Vec::new();
    let end = tokio::time::Instant::now() + window;
    while let Ok(line) = tokio::time::timeout_at(end, lines.next_line()).await {
        seen.push(line?.ok_or("MONITOR: closed")?);
    }
    Ok(seen)
}

#[tokio::test]
async fn sessions_held_by_a_node_cost_redis_nothing_while_idle() -> R {
    const SESSIONS: usize = 150;
    let redis = RedisServer::start()?;
    let keys = tempfile::tempdir()?.keep().join("cometd.key");
    // The sessions stay (no connect needed for a minute); the node lease renews every
    // 500 ms, the directory's old per-session renewal ran every 5 s (cluster.lease_ms/3).
    let config = format!(
        "[store]\nurl = \"{}\"\nlease_ttl_ms = 1500\n[cometd]\nkey_file = \"{}\"\n\
         max_interval_ms = 60000\nhandshakes_per_ip = {{ per_second = 1000.0, burst = 1000 }}\n",
        redis.url(),
        keys.display()
    );
    let a = Server::start(&config).await?;
    let b = Server::start(&config).await?;
    let mut ids = Vec::new();
    for _ in 0..SESSIONS {
        let mut cl = Client::new(&[&a])?;
        cl.handshake(0).await?;
        ids.push(cl.id);
    }
    let count = "return #redis.call('KEYS', ARGV[1])";
    let entries: usize = redis
        .command(&["EVAL", count, "0", "chinwag:bx:{*"])?
        .parse()?;
    assert_eq!(entries, SESSIONS, "every session is in the directory");
    // Idle for two old renewal periods: nothing touches a session's entry.
    let seen = monitor(&redis, Duration::from_secs(11)).await?;
    let on_sessions: Vec<&String> = seen.iter().filter(|l| l.contains(":bx:{")).collect();
    assert!(
        on_sessions.is_empty(),
        "{} commands on session entries while idle, e.g. {:?}",
        on_sessions.len(),
        on_sessions.first()
    );
    assert!(
        seen.iter().any(|l| l.contains("node/")),
        "the node leases were renewed meanwhile (the monitor works): {} lines",
        seen.len()
    );
    // Still served by A, through B: one entry read, one lease read.
    let mut cl = Client::new(&[&a, &b])?;
    cl.id = ids[0].clone();
    let c = cl.connect(1).await?;
    assert_eq!(c["successful"], true, "{c}");
    drop((a, b));
    Ok(())
}

/// The `n` of every broadcast on `/room/1` the client got, in arrival order.
fn room(cl: &Client) -> Vec<u64> {
    cl.notes.iter().filter_map(|d| d["n"].as_u64()).collect()
}

#[tokio::test]
async fn broadcasts_cross_nodes_and_follow_a_taken_over_subscriber() -> R {
    let redis = RedisServer::start()?;
    let keys = tempfile::tempdir()?.keep().join("cometd.key");
    let config = format!(
        "[store]\nurl = \"{}\"\nlease_ttl_ms = 1500\n[cometd]\nkey_file = \"{}\"\nbroadcast = true\n",
        redis.url(),
        keys.display()
    );
    let mut a = Server::start(&config).await?;
    let b = Server::start(&config).await?;
    let c = Server::start(&config).await?;
    // The subscriber is owned by A and subscribes through B; the publisher is owned by C.
    let mut sub = Client::new(&[&a, &b, &c])?;
    sub.handshake(0).await?;
    let r = sub
        .post(
            1,
            json!({"channel": "/meta/subscribe", "subscription": "/room/1"}),
        )
        .await?;
    assert_eq!(r[0]["successful"], true, "{r:?}");
    let mut publisher = Client::new(&[&a, &b, &c])?;
    publisher.handshake(2).await?;
    let publish = |n: u64| json!({"channel": "/room/1", "data": {"n": n}});
    for n in 0..4 {
        let r = publisher.post(n as usize % 2 + 1, publish(n)).await?;
        assert_eq!(r[0]["successful"], true, "{r:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut i = 0;
    while room(&sub).len() < 4 {
        assert!(Instant::now() < deadline, "got {:?}", room(&sub));
        sub.connect(i % 3).await?;
        i += 1;
    }
    assert_eq!(room(&sub), [0, 1, 2, 3], "each broadcast once, in order");
    // The subscriber's owner dies: B takes the session over with its subscription.
    a.kill9()?;
    let first = bounded("a connect after the owner died", 30, sub.connect(1)).await?;
    assert_eq!(first["successful"], true, "{first}");
    for n in 4..7 {
        let r = publisher.post(2, publish(n)).await?;
        assert_eq!(r[0]["successful"], true, "{r:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !room(&sub).contains(&6) {
        assert!(Instant::now() < deadline, "got {:?}", room(&sub));
        sub.connect(1 + i % 2).await?;
        i += 1;
    }
    assert_eq!(room(&sub), [0, 1, 2, 3, 4, 5, 6]);
    assert!(sub.errors.is_empty(), "no request failed: {:?}", sub.errors);
    drop((b, c));
    Ok(())
}
