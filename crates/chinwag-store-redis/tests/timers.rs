//! The chats' timers on Redis beyond the conformance suite: a timer lives in its chat's
//! partition (the same cluster slot as the chat's keys), and two nodes (two connections)
//! claiming at once on a three-primary cluster get each due timer once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ids::ChatId;
use chinwag_core::lease::Holder;
use chinwag_core::timers::{Schedule, TimerKey, TimerKind, Timers};
use chinwag_redis_testkit::RedisCluster;
use chinwag_store_redis::{RedisOptions, RedisStore};
use std::collections::BTreeSet;

fn key(chat: &str) -> TimerKey {
    TimerKey::new(TimerKind::Abandon, ChatId::new(chat))
}

#[tokio::test]
async fn timers_live_in_their_chats_slot_and_two_nodes_claim_each_once() {
    let cluster = RedisCluster::start(3).unwrap();
    let a = RedisStore::connect(&cluster.url(), RedisOptions::default())
        .await
        .unwrap();
    let b = RedisStore::connect(&cluster.url(), RedisOptions::default())
        .await
        .unwrap();
    let timers: Vec<(TimerKey, i64)> = (0..64).map(|i| (key(&format!("c{i}")), 1_000)).collect();
    a.schedule(&timers, Schedule::Replace).await.unwrap();
    for (k, _) in &timers {
        let tag = a.partition_tag(a.partition_of(&k.chat)).unwrap().to_owned();
        let zset = format!("chinwag:{{{tag}}}:timers");
        let head = format!("chinwag:{{{tag}}}:h:{}", k.chat.as_str());
        assert_eq!(
            chinwag_store_redis::slot(zset.as_bytes()),
            chinwag_store_redis::slot(head.as_bytes()),
            "{zset} and {head} share a slot"
        );
        let member = format!("abandon:{}", k.chat.as_str());
        let score = cluster
            .nodes()
            .iter()
            .find_map(|n| {
                n.command(&["ZSCORE", &zset, &member])
                    .ok()
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_default();
        assert_eq!(score, "1000", "{member} in {zset}");
    }
    let (ha, hb) = (
        Holder::parse("n1-a").unwrap(),
        Holder::parse("n2-b").unwrap(),
    );
    let mut seen = BTreeSet::new();
    loop {
        let (x, y) = tokio::join!(
            a.claim_due(2_000, &ha, 10, 60_000),
            b.claim_due(2_000, &hb, 10, 60_000)
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        if x.is_empty() && y.is_empty() {
            break;
        }
        assert!(x.len() <= 10 && y.len() <= 10);
        for t in x.iter().chain(&y) {
            assert!(seen.insert(t.key.clone()), "{:?} claimed twice", t.key);
        }
    }
    assert_eq!(seen.len(), 64, "every timer claimed");
}
