//! The shared routing state on real Redis: the routing conformance suite on a single server
//! and on a three-primary cluster (saves announced on the routing channel and heard by the
//! feed's subscription), a save, a load and a version check are one command each, and two
//! nodes' stores on one Redis see each other's saves and announcements; a restarted
//! subscription tells routing receivers to resync.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::StoreError;
use chinwag_core::ports::{ChangeFeed, FeedEvent, RoutingNews, RoutingStore};
use chinwag_redis_testkit::{RedisCluster, RedisServer};
use chinwag_store_redis::{FeedOptions, RedisFeed, RedisOptions, RedisRouting, RedisStore};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A node's view: its store, its feed (worker running, subscribed) and its routing state.
struct Node {
    routing: RedisRouting,
    _feed: RedisFeed,
    cancel: CancellationToken,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn node(url: &str) -> Node {
    let store = RedisStore::connect(url, RedisOptions::default())
        .await
        .unwrap();
    let (feed, worker) = store.feed(FeedOptions::default());
    let mut rx = feed.subscribe();
    let cancel = CancellationToken::new();
    tokio::spawn(worker.run(cancel.clone()));
    let first = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await;
    assert!(
        matches!(first, Ok(Ok(FeedEvent::Resync))),
        "subscribed: {first:?}"
    );
    Node {
        routing: store.routing(&feed),
        _feed: feed,
        cancel,
    }
}

#[tokio::test]
async fn a_single_redis_routing_store_conforms() {
    let redis = RedisServer::start().unwrap();
    let n = node(&redis.url()).await;
    chinwag_store_conformance::run_routing_suite(&n.routing).await;
}

#[tokio::test]
async fn a_cluster_routing_store_conforms() {
    let cluster = RedisCluster::start(3).unwrap();
    let n = node(&cluster.url()).await;
    chinwag_store_conformance::run_routing_suite(&n.routing).await;
}

/// The next save announced to `rx` (resyncs skipped).
async fn next_saved(rx: &mut tokio::sync::broadcast::Receiver<RoutingNews>) -> (u64, Vec<u8>) {
    loop {
        let got = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await;
        match got.expect("an announcement in time").expect("open") {
            RoutingNews::Saved { version, news } => return (version, news.to_vec()),
            RoutingNews::Resync => {}
        }
    }
}

async fn two_nodes_share_one_state(url: &str) {
    let (a, b) = (node(url).await, node(url).await);
    let mut heard_by_b = b.routing.subscribe();
    a.routing.save(0, b"from a", b"news a").await.unwrap();
    assert_eq!(next_saved(&mut heard_by_b).await, (1, b"news a".to_vec()));
    let s = b.routing.load().await.unwrap();
    assert_eq!((s.version, s.state), (1, Some(b"from a".to_vec())));
    assert!(matches!(
        b.routing.save(0, b"stale", b"").await,
        Err(StoreError::Conflict)
    ));
    b.routing.save(1, b"from b", b"").await.unwrap();
    assert_eq!(a.routing.version().await.unwrap(), 2);
}

#[tokio::test]
async fn two_nodes_on_one_redis_share_one_routing_state() {
    let redis = RedisServer::start().unwrap();
    two_nodes_share_one_state(&redis.url()).await;
}

#[tokio::test]
async fn two_nodes_on_one_cluster_share_one_routing_state() {
    let cluster = RedisCluster::start(3).unwrap();
    two_nodes_share_one_state(&cluster.url()).await;
}

/// Commands Redis ran since the last `CONFIG RESETSTAT`, scripts' included.
fn commands_since_reset(redis: &RedisServer) -> Vec<(String, usize)> {
    let stats = redis.command(&["INFO", "commandstats"]).unwrap();
    let mut ran = Vec::new();
    for line in stats.lines() {
        let Some((name, rest)) = line
            .strip_prefix("cmdstat_")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        let calls: usize = rest
            .split(',')
            .find_map(|f| f.strip_prefix("calls="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if !name.starts_with("config") && name != "info" {
            ran.push((name.to_owned(), calls));
        }
    }
    ran.sort();
    ran
}

fn ran(pairs: &[(&str, usize)]) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_save_a_load_and_a_version_check_are_one_command_each() {
    let redis = RedisServer::start().unwrap();
    // No feed worker here: its probes would be counted.
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let (feed, _worker) = store.feed(FeedOptions::default());
    let routing = store.routing(&feed);
    routing.save(0, b"warm", b"").await.unwrap();
    redis.command(&["CONFIG", "RESETSTAT"]).unwrap();
    routing.save(1, b"state", b"news").await.unwrap();
    let want = ran(&[("evalsha", 1), ("hget", 1), ("hset", 1), ("publish", 1)]);
    assert_eq!(
        commands_since_reset(&redis),
        want,
        "a save, its announcement included"
    );
    redis.command(&["CONFIG", "RESETSTAT"]).unwrap();
    assert_eq!(routing.load().await.unwrap().version, 2);
    assert_eq!(commands_since_reset(&redis), ran(&[("hmget", 1)]), "a load");
    redis.command(&["CONFIG", "RESETSTAT"]).unwrap();
    assert_eq!(routing.version().await.unwrap(), 2);
    assert_eq!(
        commands_since_reset(&redis),
        ran(&[("hget", 1)]),
        "a version check"
    );
}

#[tokio::test]
async fn a_rebuilt_subscription_tells_routing_to_resync() {
    let mut redis = RedisServer::start().unwrap();
    let n = node(&redis.url()).await;
    let mut rx = n.routing.subscribe();
    redis.restart().unwrap();
    let got = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await;
    assert!(matches!(got, Ok(Ok(RoutingNews::Resync))), "{got:?}");
    // Saves are heard again afterwards (Redis came back empty: version 0).
    let mut saved = false;
    for _ in 0..100 {
        if n.routing.save(0, b"again", b"back").await.is_ok() {
            saved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saved, "Redis answers again");
    assert_eq!(next_saved(&mut rx).await, (1, b"back".to_vec()));
}
