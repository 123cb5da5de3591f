//! The lease conformance suite against a single Redis and a three-master Redis Cluster, and
//! where the lease keys live (one slot, tag `{c}`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::lease::{Holder, LeaseName, Leases};
use chinwag_redis_testkit::{RedisCluster, RedisServer};
use chinwag_store_redis::{RedisOptions, RedisStore};
use std::time::Duration;

#[tokio::test]
async fn leases_on_a_single_redis_conform() {
    let redis = RedisServer::start().unwrap();
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    chinwag_store_conformance::lease::run_suite(&store).await;
    // The lease is a key with a TTL holding `<fence> <holder>`.
    let (name, who) = (
        LeaseName::parse("node/x").unwrap(),
        Holder::parse("x").unwrap(),
    );
    let fence = store
        .acquire(&name, &who, Duration::from_secs(9))
        .await
        .unwrap();
    let value = redis.command(&["GET", "chinwag:{c}:lease:node/x"]).unwrap();
    assert_eq!(value, format!("{} x", fence.unwrap().0));
    let ttl: i64 = redis
        .command(&["PTTL", "chinwag:{c}:lease:node/x"])
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=9000).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn leases_on_a_cluster_conform() {
    let cluster = RedisCluster::start(3).unwrap();
    let store = RedisStore::connect(&cluster.url(), RedisOptions::default())
        .await
        .unwrap();
    chinwag_store_conformance::lease::run_suite(&store).await;
}
