//! A node restarted on a Redis (single, and a three-master Cluster) holding many open chats
//! opens from their headers alone: it holds only the chat with an agent (another node's
//! commits reach this node's bus only for chats it holds), and serves every chat as before; a
//! chat whose event stream cannot be read is quarantined when first used, and the others
//! serve (`chinwag_store_conformance::restart` says what is checked).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ids::ChatId;
use chinwag_redis_testkit::{RedisCluster, RedisServer};
use chinwag_store_conformance::restart::{self, ManualClock};
use chinwag_store_redis::{RedisOptions, RedisStore};
use std::sync::Arc;

const CHATS: usize = 40;
const SPOILED: usize = 5;

async fn store(url: &str) -> Arc<RedisStore> {
    Arc::new(
        RedisStore::connect(url, RedisOptions::default())
            .await
            .unwrap(),
    )
}

/// Fills the store at `url`, makes chat [`SPOILED`]'s event stream a string (unreadable),
/// and checks a restarted engine.
async fn restart_spoiled(url: &str, redis_url_of: impl Fn(&str) -> String) {
    let clock = ManualClock::new();
    let first = store(url).await;
    let chats = restart::fill(first.clone(), &clock, CHATS).await;
    let chat = ChatId::new(chats[SPOILED].chat_id.as_str());
    let tag = first
        .partition_tag(first.partition_of(&chat))
        .unwrap()
        .to_owned();
    let events = format!("chinwag:{{{tag}}}:e:{}", chat.as_str());
    let client = redis::Client::open(redis_url_of(&events)).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("DEL")
        .arg(&events)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(&events)
        .arg("not a stream")
        .query_async(&mut conn)
        .await
        .unwrap();
    drop(first);
    restart::check(store(url).await, &clock, &chats, Some(SPOILED), 1).await;
}

#[tokio::test]
async fn a_restart_reads_headers_only_and_every_chat_answers() {
    let redis = RedisServer::start().unwrap();
    let clock = ManualClock::new();
    let chats = restart::fill(store(&redis.url()).await, &clock, CHATS).await;
    restart::check(store(&redis.url()).await, &clock, &chats, None, 1).await;
}

#[tokio::test]
async fn a_chat_with_an_unreadable_event_stream_is_quarantined_when_first_used() {
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    restart_spoiled(&url, |_| url.clone()).await;
}

#[tokio::test]
async fn on_a_cluster_too() {
    let cluster = RedisCluster::start(3).unwrap();
    let url = cluster.url();
    // The spoiling goes to the master owning the key's slot: asked of each, one answers.
    let masters: Vec<String> = cluster.nodes().iter().map(RedisServer::url).collect();
    let owner = |key: &str| {
        masters
            .iter()
            .find(|m| {
                let c = redis::Client::open(m.as_str()).unwrap();
                let mut conn = c.get_connection().unwrap();
                redis::cmd("EXISTS")
                    .arg(key)
                    .query::<i64>(&mut conn)
                    .is_ok()
            })
            .cloned()
            .unwrap()
    };
    restart_spoiled(&url, owner).await;
}
