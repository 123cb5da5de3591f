//! The change feed against real Redis: the feed conformance suite, and every partition's
//! channel announcing, on a single server and on a three-primary cluster; the
//! subscriber sends `Resync` when it (re)subscribes — after a Redis restart, after a cluster
//! primary's restart, after the server moved a channel's slot away (`sunsubscribe`), and after
//! a hung Redis, caught by the probe — and announcements flow again; malformed messages are
//! ignored; the worker stops on its token and when its feed is dropped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ids::ChatId;
use chinwag_core::ports::{ChangeFeed, ChatStore, Commit, FeedEvent};
use chinwag_redis_testkit::{RedisCluster, RedisServer};
use chinwag_store_redis::{FeedOptions, RedisFeed, RedisOptions, RedisStore};
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::TryRecvError;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Longest wait for one feed event (reconnects after a restart included).
const WAIT: Duration = Duration::from_secs(30);

struct Running {
    feed: RedisFeed,
    rx: Receiver<FeedEvent>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// The default options but a probe too rare to fire: the other ways of noticing a lost
/// subscription are tested alone.
fn no_probe() -> FeedOptions {
    FeedOptions {
        probe_every: Duration::from_secs(3600),
        ..FeedOptions::default()
    }
}

/// Starts the feed's worker and waits for its first subscription (its first `Resync`).
async fn start(store: &RedisStore, options: FeedOptions) -> Running {
    let (feed, worker) = store.feed(options);
    let mut rx = feed.subscribe();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(worker.run(cancel.clone()));
    assert_eq!(next(&mut rx).await, FeedEvent::Resync, "first subscription");
    assert!(feed.is_subscribed());
    Running {
        feed,
        rx,
        cancel,
        task,
    }
}

async fn next(rx: &mut Receiver<FeedEvent>) -> FeedEvent {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("no feed event in time")
        .expect("feed closed or lagged")
}

/// The next announcement, skipping resyncs.
async fn next_change(rx: &mut Receiver<FeedEvent>) -> FeedEvent {
    loop {
        match next(rx).await {
            FeedEvent::Resync => {}
            e => return e,
        }
    }
}

/// Waits for a `Resync` (announcements before it are skipped: they are from before).
async fn resync(rx: &mut Receiver<FeedEvent>) {
    while next(rx).await != FeedEvent::Resync {}
}

/// Waits (at most `WAIT`) until the feed reports itself unsubscribed.
async fn unsubscribed(feed: &RedisFeed, why: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while feed.is_subscribed() {
        assert!(tokio::time::Instant::now() < deadline, "{why}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn changed(chat: &str, rev: u64) -> FeedEvent {
    FeedEvent::Changed {
        chat_id: ChatId::new(chat),
        rev,
    }
}

/// A second commit of `chat` (no header, no events): revision `base + 1`.
fn touch(chat: &str, base: u64) -> Commit {
    Commit {
        chat_id: ChatId::new(chat),
        base_rev: base,
        record: None,
        events: Vec::new(),
        pushes: Vec::new(),
    }
}

/// Commits `commit`, retrying while the store is still reconnecting (at most `WAIT`).
async fn commit_eventually(store: &RedisStore, commit: Commit) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout(WAIT, store.commit(commit.clone())).await {
            Ok(Ok(())) => return,
            other => assert!(
                tokio::time::Instant::now() < deadline,
                "commit never succeeded: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A chat id starting with `prefix` in each partition of `store` (default partitions).
fn one_chat_per_partition(store: &RedisStore, prefix: &str) -> Vec<String> {
    let mut ids = vec![None; RedisOptions::default().partitions.into()];
    for i in 0.. {
        let id = format!("{prefix}-{i}");
        let p = store.partition_of(&ChatId::new(id.as_str()));
        ids[p].get_or_insert(id);
        if ids.iter().all(Option::is_some) {
            break;
        }
    }
    ids.into_iter().flatten().collect()
}

/// Every partition's channel announces its chats' commits (chats named `prefix-…`).
async fn every_partition_announces(store: &RedisStore, rx: &mut Receiver<FeedEvent>, prefix: &str) {
    for id in one_chat_per_partition(store, prefix) {
        let (commit, _) = chinwag_store_conformance::sample(&id, 2);
        commit_eventually(store, commit).await;
        assert_eq!(next_change(rx).await, changed(&id, 1));
    }
}

/// Runs the change-feed conformance suite on `url`: this process's store and feed, and a
/// second process's store on the same Redis.
async fn conforms(url: &str) {
    let store = RedisStore::connect(url, RedisOptions::default())
        .await
        .unwrap();
    let other = RedisStore::connect(url, RedisOptions::default())
        .await
        .unwrap();
    let capacity = 32;
    let run = start(
        &store,
        FeedOptions {
            capacity,
            ..no_probe()
        },
    )
    .await;
    chinwag_store_conformance::feed::run_suite(&store, &other, &run.feed, capacity).await;
    run.cancel.cancel();
    tokio::time::timeout(WAIT, run.task).await.unwrap().unwrap();
}

#[tokio::test]
async fn the_feed_conforms_and_every_partition_announces_on_a_single_redis() {
    let redis = RedisServer::start().unwrap();
    conforms(&redis.url()).await;
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let mut run = start(&store, no_probe()).await;
    every_partition_announces(&store, &mut run.rx, "s").await;
    run.cancel.cancel();
    tokio::time::timeout(WAIT, run.task).await.unwrap().unwrap();
}

#[tokio::test]
async fn the_feed_conforms_and_every_partition_announces_on_a_cluster() {
    let cluster = RedisCluster::start(3).unwrap();
    conforms(&cluster.url()).await;
    let store = RedisStore::connect(&cluster.url(), RedisOptions::default())
        .await
        .unwrap();
    let mut run = start(&store, no_probe()).await;
    every_partition_announces(&store, &mut run.rx, "c").await;
    let id = one_chat_per_partition(&store, "c").pop().unwrap();
    store.commit(touch(&id, 1)).await.unwrap();
    assert_eq!(next_change(&mut run.rx).await, changed(&id, 2));
}

#[tokio::test]
async fn after_a_redis_restart_the_feed_resubscribes_and_resyncs() {
    let mut redis = RedisServer::start().unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let mut run = start(&store, no_probe()).await;
    redis.kill().unwrap();
    redis.restart().unwrap();
    resync(&mut run.rx).await;
    let (commit, _) = chinwag_store_conformance::sample("after", 1);
    commit_eventually(&store, commit).await;
    assert_eq!(next_change(&mut run.rx).await, changed("after", 1));
    // Down for longer (several failed attempts), then back.
    redis.kill().unwrap();
    unsubscribed(&run.feed, "the disconnection was not seen").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    redis.restart().unwrap();
    resync(&mut run.rx).await;
    let (commit, _) = chinwag_store_conformance::sample("later", 1);
    commit_eventually(&store, commit).await;
    assert_eq!(next_change(&mut run.rx).await, changed("later", 1));
}

#[tokio::test]
async fn after_a_cluster_primary_restarts_the_feed_resubscribes_and_resyncs() {
    let mut cluster = RedisCluster::start(3).unwrap();
    let store = RedisStore::connect(&cluster.url(), RedisOptions::default())
        .await
        .unwrap();
    let mut run = start(&store, no_probe()).await;
    cluster.node_mut(1).unwrap().kill().unwrap();
    cluster.node_mut(1).unwrap().restart().unwrap();
    cluster.wait_ok(WAIT).unwrap();
    resync(&mut run.rx).await;
    every_partition_announces(&store, &mut run.rx, "r").await;
}

/// The server unsubscribes the feed by itself when a channel's slot moves to another primary
/// (as after a failover): the feed resubscribes on the new owner.
#[tokio::test]
async fn a_channel_moved_to_another_primary_is_followed() {
    let cluster = RedisCluster::start(3).unwrap();
    let store = RedisStore::connect(&cluster.url(), RedisOptions::default())
        .await
        .unwrap();
    let mut run = start(&store, no_probe()).await;
    // Partition 0's slot holds nothing yet, so it can move without migrating keys.
    let tag = store.partition_tag(0).unwrap();
    let slot = chinwag_store_redis::slot(tag.as_bytes()).to_string();
    let owner = owner_of(&cluster, &slot);
    let to = (owner + 1) % 3;
    let to_id = cluster.nodes()[to].command(&["CLUSTER", "MYID"]).unwrap();
    for n in [to, owner, (owner + 2) % 3] {
        let node = &cluster.nodes()[n];
        node.command(&["CLUSTER", "SETSLOT", &slot, "NODE", &to_id])
            .unwrap();
    }
    assert_eq!(owner_of(&cluster, &slot), to);
    resync(&mut run.rx).await;
    let id = one_chat_per_partition(&store, "moved").swap_remove(0);
    let (commit, _) = chinwag_store_conformance::sample(&id, 1);
    commit_eventually(&store, commit).await;
    assert_eq!(next_change(&mut run.rx).await, changed(&id, 1));
}

/// The index in `cluster.nodes()` of the primary that owns `slot`, says `CLUSTER NODES`.
fn owner_of(cluster: &RedisCluster, slot: &str) -> usize {
    let slot: u16 = slot.parse().unwrap();
    let text = cluster.nodes()[0].command(&["CLUSTER", "NODES"]).unwrap();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let owns = f.iter().skip(8).any(|r| {
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            a.parse::<u16>().is_ok_and(|a| a <= slot) && b.parse::<u16>().is_ok_and(|b| slot <= b)
        });
        if owns {
            let addr = f[1].split('@').next().unwrap();
            return cluster
                .nodes()
                .iter()
                .position(|n| n.addr() == addr)
                .unwrap();
        }
    }
    panic!("no owner of slot {slot} in {text}");
}

/// A hung Redis (stopped, its sockets open) does not break the connection: the probe the
/// feed publishes to itself goes unanswered, and the feed resubscribes once Redis is back;
/// probes that do come back change nothing.
#[tokio::test]
async fn a_hung_redis_is_caught_by_the_probe() {
    let redis = RedisServer::start().unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let options = FeedOptions {
        probe_every: Duration::from_millis(500),
        ..FeedOptions::default()
    };
    let mut run = start(&store, options).await;
    // While Redis answers, every probe comes back: five rounds pass without a resync.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(run.feed.is_subscribed());
    assert!(
        matches!(run.rx.try_recv(), Err(TryRecvError::Empty)),
        "a probe failed while Redis answered"
    );
    redis.pause().unwrap();
    unsubscribed(&run.feed, "the probe never failed").await;
    redis.resume().unwrap();
    resync(&mut run.rx).await;
    let (commit, _) = chinwag_store_conformance::sample("resumed", 1);
    commit_eventually(&store, commit).await;
    assert_eq!(next_change(&mut run.rx).await, changed("resumed", 1));
}

/// Garbage on a feed channel (from anyone who can publish there) is ignored.
#[tokio::test]
async fn malformed_messages_are_ignored() {
    let redis = RedisServer::start().unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let mut run = start(&store, no_probe()).await;
    let tag = store
        .partition_tag(store.partition_of(&ChatId::new("good")))
        .unwrap()
        .to_owned();
    let channel = format!("chinwag:{{{tag}}}:feed");
    let long = format!("1:{}", "x".repeat(10_000));
    let wrong_partition = (0..)
        .map(|i| format!("w{i}"))
        .find(|id| {
            store.partition_of(&ChatId::new(id.as_str()))
                != store.partition_of(&ChatId::new("good"))
        })
        .unwrap();
    for bad in [
        "",
        "nonsense",
        "x:good",
        "1:",
        &long,
        "probe:1:1",
        &format!("1:{wrong_partition}"),
    ] {
        redis.command(&["PUBLISH", &channel, bad]).unwrap();
    }
    let (commit, _) = chinwag_store_conformance::sample("good", 1);
    store.commit(commit).await.unwrap();
    assert_eq!(
        next(&mut run.rx).await,
        changed("good", 1),
        "nothing before it"
    );
}

#[tokio::test]
async fn the_worker_stops_on_its_token_and_when_its_feed_is_dropped() {
    let redis = RedisServer::start().unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let run = start(&store, no_probe()).await;
    run.cancel.cancel();
    tokio::time::timeout(WAIT, run.task).await.unwrap().unwrap();

    let run = start(&store, no_probe()).await;
    let mut rx = run.rx;
    drop(run.feed);
    tokio::time::timeout(WAIT, run.task).await.unwrap().unwrap();
    let closed = tokio::time::timeout(WAIT, rx.recv()).await.unwrap();
    assert!(closed.is_err(), "the feed's channel closes with its worker");
    // A worker whose Redis is down also stops at once.
    let mut redis = redis;
    let (feed, worker) = store.feed(FeedOptions::default());
    redis.kill().unwrap();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(worker.run(cancel.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    cancel.cancel();
    tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
    drop(feed);
}

/// A Redis user without channel permissions: commits still succeed (their announcement
/// fails inside the script, after the writes), and the feed keeps trying; once the channels
/// are granted it subscribes by itself and announcements flow.
#[tokio::test]
async fn without_channel_permissions_commits_succeed_and_the_feed_waits_for_them() {
    let redis = RedisServer::start().unwrap();
    redis
        .command(&["ACL", "SETUSER", "chat", "on", ">pw", "~chinwag:*", "+@all"])
        .unwrap();
    let url = format!("redis://chat:pw@{}", redis.addr());
    let store = RedisStore::connect(&url, RedisOptions::default())
        .await
        .unwrap();
    let (feed, worker) = store.feed(no_probe());
    let mut rx = feed.subscribe();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(worker.run(cancel.clone()));
    let (commit, _) = chinwag_store_conformance::sample("unheard", 2);
    store.commit(commit).await.unwrap();
    store.commit(touch("unheard", 1)).await.unwrap();
    let loaded = store.load(&ChatId::new("unheard")).await.unwrap().unwrap();
    assert_eq!((loaded.rev, loaded.events.len()), (2, 2));
    assert!(!feed.is_subscribed());
    redis
        .command(&["ACL", "SETUSER", "chat", "&chinwag:*"])
        .unwrap();
    assert_eq!(next(&mut rx).await, FeedEvent::Resync);
    store.commit(touch("unheard", 2)).await.unwrap();
    assert_eq!(next(&mut rx).await, changed("unheard", 3));
    cancel.cancel();
    tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
}
