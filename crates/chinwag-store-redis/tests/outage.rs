//! Redis going away: while it is down (killed) or hung (stopped), every call fails with
//! `Unavailable` instead of hanging; once it is back the same store object works again by
//! itself. With AOF on, what was committed before a `kill -9` of Redis is read back after.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::StoreError;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::{ChatStore, PushOutbox};
use chinwag_redis_testkit::{Fsync, RedisCluster, RedisServer, ServerOptions};
use chinwag_store_redis::{RedisOptions, RedisStore};
use std::time::Duration;

/// Far above the store's 2 s deadline: a call still running then is hanging.
const BOUND: Duration = Duration::from_secs(10);

/// Every kind of call fails with `Unavailable`, each within `BOUND`.
async fn every_call_is_unavailable(store: &RedisStore, id: &str) {
    let (commit, _) = chinwag_store_conformance::sample(id, 1);
    let chat = ChatId::new(id);
    let within = |what: &'static str| {
        move |r: Result<StoreError, tokio::time::error::Elapsed>| {
            let e = r.unwrap_or_else(|_| panic!("{what} hung past {BOUND:?}"));
            assert!(matches!(e, StoreError::Unavailable), "{what}: {e:?}");
        }
    };
    within("commit")(
        tokio::time::timeout(BOUND, async { store.commit(commit).await.unwrap_err() }).await,
    );
    within("load")(
        tokio::time::timeout(BOUND, async { store.load(&chat).await.unwrap_err() }).await,
    );
    within("load_live")(
        tokio::time::timeout(BOUND, async { store.load_live(0).await.unwrap_err() }).await,
    );
    within("pending")(
        tokio::time::timeout(BOUND, async { store.pending().await.unwrap_err() }).await,
    );
    within("ping")(tokio::time::timeout(BOUND, async { store.ping().await.unwrap_err() }).await);
}

/// Retries `ping` until it succeeds (at most 30 s): the store reconnects by itself.
async fn recovers(store: &RedisStore) {
    let mut last = None;
    for _ in 0..60 {
        match tokio::time::timeout(BOUND, store.ping()).await {
            Ok(Ok(())) => return,
            other => last = Some(format!("{other:?}")),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the store did not recover: {last:?}");
}

#[tokio::test]
async fn a_killed_redis_gives_unavailable_and_its_return_is_picked_up() {
    let mut redis = RedisServer::start().unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let (commit, _) = chinwag_store_conformance::sample("before", 2);
    store.commit(commit).await.unwrap();
    redis.kill().unwrap();
    every_call_is_unavailable(&store, "during").await;
    every_call_is_unavailable(&store, "during2").await;
    redis.restart().unwrap();
    recovers(&store).await;
    let (commit, _) = chinwag_store_conformance::sample("after", 2);
    store.commit(commit).await.unwrap();
    assert_eq!(
        store
            .load(&ChatId::new("after"))
            .await
            .unwrap()
            .unwrap()
            .events
            .len(),
        2
    );
}

#[tokio::test]
async fn a_hung_redis_gives_unavailable_and_its_return_is_picked_up() {
    let redis = RedisServer::start().unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    redis.pause().unwrap();
    every_call_is_unavailable(&store, "hung").await;
    redis.resume().unwrap();
    recovers(&store).await;
    let (commit, _) = chinwag_store_conformance::sample("after", 1);
    store.commit(commit).await.unwrap();
}

#[tokio::test]
async fn a_killed_cluster_primary_gives_unavailable_and_its_return_is_picked_up() {
    let mut cluster = RedisCluster::start(3).unwrap();
    let store = RedisStore::connect(&cluster.url(), RedisOptions::default())
        .await
        .unwrap();
    for i in 0..20 {
        let (commit, _) = chinwag_store_conformance::sample(&format!("c{i}"), 1);
        store.commit(commit).await.unwrap();
    }
    cluster.node_mut(0).unwrap().kill().unwrap();
    // load_live touches every partition, so some of the dead primary's.
    let r = tokio::time::timeout(BOUND, store.load_live(0)).await;
    let e = r.expect("load_live hung").unwrap_err();
    assert!(matches!(e, StoreError::Unavailable), "{e:?}");
    let r = tokio::time::timeout(BOUND, store.ping()).await;
    assert!(matches!(r, Ok(Err(StoreError::Unavailable))), "{r:?}");
    cluster.node_mut(0).unwrap().restart().unwrap();
    cluster.wait_ok(Duration::from_secs(30)).unwrap();
    recovers(&store).await;
    // No persistence: the restarted primary came back empty, the others kept their chats,
    // and every partition takes writes again.
    let mut ok = false;
    for _ in 0..60 {
        if let Ok(Ok(l)) = tokio::time::timeout(BOUND, store.load_live(0)).await {
            assert!(l.quarantined.is_empty());
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(ok, "load_live never succeeded again");
    for i in 0..20 {
        let (commit, _) = chinwag_store_conformance::sample(&format!("d{i}"), 1);
        store.commit(commit).await.unwrap();
    }
}

#[tokio::test]
async fn with_aof_always_committed_chats_survive_a_kill_9_of_redis() {
    survives_a_kill_9_with(Fsync::Always).await;
}

/// Redis writes the AOF before it replies, so `everysec` loses nothing to a process crash
/// either (only to a power cut, which this cannot test).
#[tokio::test]
async fn with_aof_everysec_committed_chats_survive_a_kill_9_of_redis() {
    survives_a_kill_9_with(Fsync::EverySec).await;
}

async fn survives_a_kill_9_with(fsync: Fsync) {
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions::default().with_aof(fsync).in_dir(dir.path());
    let mut redis = RedisServer::start_with(opts).unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let mut pushes = 0;
    for i in 0..10u64 {
        let (mut commit, _) = chinwag_store_conformance::sample(&format!("s{i}"), 3);
        if i % 2 == 0 {
            pushes += 1;
            commit.pushes = vec![chinwag_core::push::PushJob {
                seq: 100 + i,
                device: "customhttp:x".into(),
                chat_id: commit.chat_id.clone(),
                index: chinwag_core::ids::EventIndex(3),
                kind: chinwag_core::push::JobKind::Event,
                attempt: 0,
                due_ms: 0,
                sent: false,
                owner: None,
            }];
        }
        store.commit(commit).await.unwrap();
    }
    store.finish(&[108]).await.unwrap();
    redis.kill().unwrap();
    redis.restart().unwrap();
    // The same store object, reconnected by itself.
    recovers(&store).await;
    let loaded = store.load_live(0).await.unwrap();
    assert_eq!(loaded.sessions.len(), 10);
    assert!(
        loaded
            .sessions
            .iter()
            .all(|s| s.events.len() == 3 && s.rev == 1)
    );
    assert_eq!(store.pending().await.unwrap().len(), pushes - 1);
    assert_eq!(store.last_seq().await.unwrap(), 108);
    // A new store object (a restarted node) reads the same.
    let fresh = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    assert_eq!(fresh.load_live(0).await.unwrap().sessions.len(), 10);
}
