//! The one store conformance suite, against a single Redis and a three-master Redis Cluster,
//! plus what is particular to Redis: forgotten scripts are sent again, the recorded layout
//! is enforced, and a cluster node is refused as a single server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ids::ChatId;
use chinwag_core::ports::ChatStore;
use chinwag_redis_testkit::{RedisCluster, RedisServer};
use chinwag_store_redis::{RedisOptions, RedisStore};

#[tokio::test]
async fn a_single_redis_conforms() {
    let redis = RedisServer::start().unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    store.ping().await.unwrap();
    chinwag_store_conformance::run_suite(&store).await;
}

#[tokio::test]
async fn a_three_master_cluster_conforms_with_chats_on_every_master() {
    let cluster = RedisCluster::start(3).unwrap();
    let store = RedisStore::connect(&cluster.url(), RedisOptions::default())
        .await
        .unwrap();
    store.ping().await.unwrap();
    chinwag_store_conformance::run_suite(&store).await;
    // Every master holds some of the partitions, and so some keys.
    for node in cluster.nodes() {
        let keys: u64 = node.command(&["DBSIZE"]).unwrap().parse().unwrap();
        assert!(keys > 0, "node {} holds no key", node.addr());
    }
}

/// The slot owned by each master, from `CLUSTER NODES` (`<id> <addr> <flags> … 0-5460`).
fn slot_ranges(cluster: &RedisCluster) -> Vec<(String, Vec<(u16, u16)>)> {
    let text = cluster.nodes()[0].command(&["CLUSTER", "NODES"]).unwrap();
    text.lines()
        .filter(|l| l.contains("master"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let ranges = f[8..]
                .iter()
                .filter_map(|r| {
                    let (a, b) = r.split_once('-').unwrap_or((r, r));
                    Some((a.parse().ok()?, b.parse().ok()?))
                })
                .collect();
            (f[1].to_owned(), ranges)
        })
        .collect()
}

#[tokio::test]
async fn partition_tags_hash_where_computed_and_spread_over_the_masters() {
    let cluster = RedisCluster::start(3).unwrap();
    let store = RedisStore::connect(&cluster.url(), RedisOptions::default())
        .await
        .unwrap();
    let masters = slot_ranges(&cluster);
    assert_eq!(masters.len(), 3);
    let mut per_master = vec![0; 3];
    for p in 0..16 {
        let key = format!("chinwag:{{{}}}:open", store.partition_tag(p).unwrap());
        let told: u16 = cluster.nodes()[0]
            .command(&["CLUSTER", "KEYSLOT", &key])
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(told, chinwag_store_redis::slot(key.as_bytes()), "{key}");
        let owner = masters
            .iter()
            .position(|(_, r)| r.iter().any(|(a, b)| (*a..=*b).contains(&told)))
            .unwrap();
        per_master[owner] += 1;
    }
    per_master.sort_unstable();
    assert_eq!(per_master, [5, 5, 6], "16 partitions over 3 masters");
}

#[tokio::test]
async fn scripts_forgotten_by_every_cluster_node_are_sent_again() {
    let cluster = RedisCluster::start(3).unwrap();
    let store = RedisStore::connect(&cluster.url(), RedisOptions::default())
        .await
        .unwrap();
    for i in 0..8 {
        let (commit, _) = chinwag_store_conformance::sample(&format!("a{i}"), 1);
        store.commit(commit).await.unwrap();
    }
    for node in cluster.nodes() {
        assert_eq!(node.command(&["SCRIPT", "FLUSH"]).unwrap(), "OK");
    }
    for i in 0..8 {
        let (commit, _) = chinwag_store_conformance::sample(&format!("b{i}"), 1);
        store.commit(commit).await.unwrap();
    }
    let loaded = store.load_live(0).await.unwrap();
    assert_eq!(loaded.sessions.len(), 16);
}

#[tokio::test]
async fn a_cluster_with_one_partition_conforms() {
    let cluster = RedisCluster::start(3).unwrap();
    let options = RedisOptions {
        partitions: 1,
        ..RedisOptions::default()
    };
    let store = RedisStore::connect(&cluster.url(), options).await.unwrap();
    chinwag_store_conformance::run_suite(&store).await;
}

/// Commands Redis ran since the last `CONFIG RESETSTAT`, by name, those a script ran
/// included (`CONFIG` and `INFO` left out).
fn commands_since_reset(redis: &RedisServer) -> std::collections::BTreeMap<String, usize> {
    let stats = redis.command(&["INFO", "commandstats"]).unwrap();
    let mut ran = std::collections::BTreeMap::new();
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
            ran.insert(name.to_owned(), calls);
        }
    }
    ran
}

fn counts(pairs: &[(&str, usize)]) -> std::collections::BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// One `EVALSHA` is one round trip; everything else counted ran inside that script (the
/// commit's announcement on the feed channel included).
#[tokio::test]
async fn a_commit_and_a_load_are_one_redis_command_each() {
    let redis = RedisServer::start().unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let (commit, _) = chinwag_store_conformance::sample("warm", 1);
    store.commit(commit).await.unwrap();
    store.load(&ChatId::new("warm")).await.unwrap();
    redis.command(&["CONFIG", "RESETSTAT"]).unwrap();
    let (mut commit, _) = chinwag_store_conformance::sample("one", 3);
    commit.pushes = vec![chinwag_core::push::PushJob {
        seq: 1,
        device: "customhttp:x".into(),
        chat_id: commit.chat_id.clone(),
        index: chinwag_core::ids::EventIndex(3),
        kind: chinwag_core::push::JobKind::Event,
        attempt: 0,
        due_ms: 0,
        sent: false,
        owner: None,
    }];
    store.commit(commit).await.unwrap();
    let script = [
        ("hget", 1),
        ("xrevrange", 1),
        ("get", 1),
        ("zcount", 1),
        ("hset", 2),
        ("sadd", 1),
        ("zrem", 1),
        ("xadd", 3),
        ("zadd", 1),
        ("set", 1),
        ("publish", 1),
    ];
    let mut want = counts(&script);
    want.insert("evalsha".into(), 1);
    assert_eq!(commands_since_reset(&redis), want, "a commit");
    redis.command(&["CONFIG", "RESETSTAT"]).unwrap();
    let s = store.load(&ChatId::new("one")).await.unwrap().unwrap();
    assert_eq!(s.events.len(), 3);
    let want = counts(&[("evalsha", 1), ("hmget", 1), ("xrange", 1)]);
    assert_eq!(commands_since_reset(&redis), want, "a load");
    redis.command(&["CONFIG", "RESETSTAT"]).unwrap();
    assert_eq!(store.revision(&ChatId::new("one")).await.unwrap(), Some(1));
    let want = counts(&[("hget", 1)]);
    assert_eq!(commands_since_reset(&redis), want, "a revision check");
}

#[tokio::test]
async fn scripts_forgotten_by_redis_are_sent_again() {
    let redis = RedisServer::start().unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let (commit, _) = chinwag_store_conformance::sample("a", 2);
    store.commit(commit).await.unwrap();
    assert_eq!(redis.command(&["SCRIPT", "FLUSH"]).unwrap(), "OK");
    let (commit, _) = chinwag_store_conformance::sample("b", 2);
    store.commit(commit).await.unwrap();
    assert_eq!(store.load_live(0).await.unwrap().sessions.len(), 2);
}

#[tokio::test]
async fn a_node_with_other_partitions_or_a_cluster_node_is_refused() {
    let redis = RedisServer::start().unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    let (commit, _) = chinwag_store_conformance::sample("kept", 1);
    store.commit(commit).await.unwrap();
    let other = RedisOptions {
        partitions: 32,
        ..RedisOptions::default()
    };
    let e = RedisStore::connect(&redis.url(), other).await.unwrap_err();
    assert!(e.to_string().contains("partitions=16"), "{e}");
    // Another prefix is another store in the same Redis.
    let apart = RedisOptions {
        partitions: 32,
        prefix: "other".into(),
        ..RedisOptions::default()
    };
    let other = RedisStore::connect(&redis.url(), apart).await.unwrap();
    assert!(other.load(&ChatId::new("kept")).await.unwrap().is_none());

    let cluster = RedisCluster::start(3).unwrap();
    let node = format!("redis://{}", cluster.addrs()[0]);
    let e = RedisStore::connect(&node, RedisOptions::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cluster"), "{e}");
}

#[tokio::test]
async fn the_password_in_the_url_is_used() {
    let redis = RedisServer::start_with(chinwag_redis_testkit::ServerOptions {
        extra_args: vec!["--requirepass".into(), "s3cret".into()],
        ..Default::default()
    })
    .unwrap();
    let url = |pw: &str| format!("redis://:{pw}@{}/", redis.addr());
    let e = RedisStore::connect(&url("wrong"), RedisOptions::default())
        .await
        .unwrap_err();
    assert!(
        !e.to_string().contains("wrong"),
        "the password is not echoed: {e}"
    );
    let store = RedisStore::connect(&url("s3cret"), RedisOptions::default())
        .await
        .unwrap();
    let (commit, _) = chinwag_store_conformance::sample("auth", 1);
    store.commit(commit).await.unwrap();
}
