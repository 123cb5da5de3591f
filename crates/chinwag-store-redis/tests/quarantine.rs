//! Unreadable stored chats (corrupt header JSON, corrupt event JSON, nesting past
//! serde_json's recursion limit, text that is not UTF-8, a key of the wrong type, a header
//! gone from under its index entry) are quarantined by `load_live` with a reason while every
//! other chat loads whole; `load_headers` quarantines only the chats whose header is unreadable
//! (it reads no event); `load` of one is an error, never a panic. The same rules as the
//! SQLite store, on Redis.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ids::ChatId;
use chinwag_core::ports::ChatStore;
use chinwag_redis_testkit::RedisServer;
use chinwag_store_conformance::quarantine;
use chinwag_store_redis::{RedisOptions, RedisStore};
use redis::AsyncCommands;

const GOOD: [&str; 2] = ["good1", "good2"];
const BAD: [&str; 6] = [
    "bad-header",
    "bad-event",
    "deep-event",
    "not-utf8",
    "wrong-type",
    "no-header",
];

fn key(store: &RedisStore, kind: &str, id: &str) -> String {
    let p = store.partition_of(&ChatId::new(id));
    let tag = store.partition_tag(p).unwrap();
    format!("chinwag:{{{tag}}}:{kind}:{id}")
}

/// One stream entry as `XRANGE` returns it: ID and (field, value) pairs.
type StreamEntry = (String, Vec<(String, Vec<u8>)>);

/// Rewrites a chat's event stream with event `idx`'s body replaced by `f(body)`.
async fn spoil_event(
    conn: &mut redis::aio::MultiplexedConnection,
    stream: &str,
    idx: u64,
    f: impl Fn(Vec<u8>) -> Vec<u8>,
) {
    let entries: Vec<StreamEntry> = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query_async(conn)
        .await
        .unwrap();
    assert!(!entries.is_empty());
    let _: () = conn.del(stream).await.unwrap();
    for (id, fields) in entries {
        let mut body = fields[0].1.clone();
        if id == format!("{idx}-0") {
            body = f(body);
        }
        let _: String = redis::cmd("XADD")
            .arg(stream)
            .arg(&id)
            .arg("e")
            .arg(body)
            .query_async(conn)
            .await
            .unwrap();
    }
}

/// A store holding every chat of `GOOD` and `BAD` (4 events each), then the `BAD` ones
/// spoiled directly in Redis.
async fn spoiled_store(redis: &RedisServer) -> RedisStore {
    let store = RedisStore::connect(&redis.url(), RedisOptions::default())
        .await
        .unwrap();
    for id in GOOD.iter().chain(&BAD) {
        let (commit, _) = chinwag_store_conformance::sample(id, 4);
        store.commit(commit).await.unwrap();
    }
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = conn
        .hset(
            key(&store, "h", "bad-header"),
            "rec",
            "{\"chat_id\": \"bad-header\", ",
        )
        .await
        .unwrap();
    spoil_event(&mut conn, &key(&store, "e", "bad-event"), 2, |_| {
        b"{\"index\": 2, ".to_vec()
    })
    .await;
    spoil_event(&mut conn, &key(&store, "e", "deep-event"), 3, |body| {
        let mut event: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let field = event
            .as_object()
            .unwrap()
            .keys()
            .find(|k| k.to_lowercase().contains("attributes"))
            .cloned()
            .expect("events store their attributes");
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        event[field.as_str()] = serde_json::Value::Null;
        let text = serde_json::to_string(&event)
            .unwrap()
            .replace(&format!("\"{field}\":null"), &format!("\"{field}\":{deep}"));
        assert!(text.contains(&deep));
        text.into_bytes()
    })
    .await;
    spoil_event(&mut conn, &key(&store, "e", "not-utf8"), 4, |_| {
        b"{\"index\xff".to_vec()
    })
    .await;
    let head = key(&store, "h", "wrong-type");
    let _: () = conn.del(&head).await.unwrap();
    let _: () = conn.set(&head, "not a hash").await.unwrap();
    let _: () = conn.del(key(&store, "h", "no-header")).await.unwrap();
    store
}

#[tokio::test]
async fn unreadable_chats_are_quarantined_and_the_others_load_whole() {
    let redis = RedisServer::start().unwrap();
    let store = spoiled_store(&redis).await;
    let spoiled = [
        ("bad-header", "session header: EOF"),
        ("bad-event", "event 2: EOF"),
        ("deep-event", "event 3: recursion limit exceeded"),
        ("not-utf8", "event 4: not UTF-8"),
        ("wrong-type", "unreadable keys: WRONGTYPE"),
        ("no-header", "session header: missing"),
    ];
    quarantine::check_load_live(&store, &GOOD, &spoiled).await;
}

#[tokio::test]
async fn only_unreadable_headers_are_quarantined_when_headers_are_read() {
    let redis = RedisServer::start().unwrap();
    let store = spoiled_store(&redis).await;
    let listed = ["bad-event", "deep-event", "good1", "good2", "not-utf8"];
    let spoiled = [
        ("bad-header", "session header: EOF"),
        ("wrong-type", "unreadable keys: WRONGTYPE"),
        ("no-header", "session header: missing"),
    ];
    quarantine::check_load_headers(&store, &listed, &spoiled).await;
}

#[tokio::test]
async fn loading_one_unreadable_chat_is_an_error() {
    let redis = RedisServer::start().unwrap();
    let store = spoiled_store(&redis).await;
    quarantine::check_load_one(&store, &GOOD, &BAD).await;
}
