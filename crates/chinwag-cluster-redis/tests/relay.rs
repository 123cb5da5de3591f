//! The broadcast relay over real Redis (single server and cluster): a publish on one
//! node's Bayeux server reaches a subscriber of another node's, once; the publishing node
//! does not get its own publish back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_bayeux::BayeuxServer;
use chinwag_bayeux::cluster::{Cluster, ClusterOptions, Lease, MemoryDirectory, MemoryNodes};
use chinwag_cluster_redis::{RedisOptions, RedisRelay};
use chinwag_redis_testkit::{RedisCluster, RedisServer};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

type R = Result<(), Box<dyn std::error::Error>>;

async fn node(
    url: &str,
    name: &str,
    dir: Arc<MemoryDirectory>,
    stop: &CancellationToken,
) -> Result<(BayeuxServer, String), Box<dyn std::error::Error>> {
    let (relay, worker) = RedisRelay::connect(url, name, &RedisOptions::default()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = format!("http://{}", listener.local_addr()?);
    let options = ClusterOptions {
        addr: addr.clone(),
        mount: "/cometd".into(),
        secret: "s3cret".into(),
        lease: Lease {
            lease: Duration::from_secs(10),
            keep: Duration::from_secs(10),
        },
        connect_timeout: Duration::from_secs(1),
        owner_wait: Duration::from_secs(2),
    };
    let liveness = MemoryNodes::default().join(name);
    let server = BayeuxServer::builder(Default::default())
        .cluster(Cluster::new(dir, liveness, Some(Arc::new(relay)), options)?)
        .build();
    let app = server.router("/cometd");
    let s = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(s.cancelled_owned())
            .await;
    });
    let (srv, s) = (server.clone(), stop.clone());
    tokio::spawn(async move { worker.run(srv, s).await });
    Ok((server, format!("{addr}/cometd")))
}

async fn post(url: &str, body: Value) -> Result<Value, Box<dyn std::error::Error>> {
    Ok(reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await?
        .json()
        .await?)
}

async fn handshake(url: &str) -> Result<String, Box<dyn std::error::Error>> {
    let v = post(url, json!([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}])).await?;
    Ok(v[0]["clientId"].as_str().ok_or("no clientId")?.to_owned())
}

async fn relay_reaches_other_nodes(url: &str) -> R {
    let stop = CancellationToken::new();
    let dir = Arc::new(MemoryDirectory::default());
    let (_a, a) = node(url, "a", dir.clone(), &stop).await?;
    let (_b, b) = node(url, "b", dir, &stop).await?;
    let sub = handshake(&b).await?;
    let r = post(
        &b,
        json!([{"channel":"/meta/subscribe","clientId":sub,"subscription":"/room/1"}]),
    )
    .await?;
    assert_eq!(r[0]["successful"], true, "{r}");
    post(
        &b,
        json!([{"channel":"/meta/connect","clientId":sub,"connectionType":"long-polling"}]),
    )
    .await?;
    let publisher = handshake(&a).await?;
    // The subscription may not be up yet: publish until one arrives, then count.
    let mut got = Vec::new();
    for i in 0..50 {
        let r = post(
            &a,
            json!([{"channel":"/room/1","clientId":publisher,"data":{"n":i}}]),
        )
        .await?;
        assert_eq!(r[0]["successful"], true, "{r}");
        let v = post(&b, json!([{"channel":"/meta/connect","clientId":sub,"connectionType":"long-polling","advice":{"timeout":500}}])).await?;
        got.extend(
            v.as_array()
                .unwrap()
                .iter()
                .filter(|m| m["channel"] == "/room/1")
                .map(|m| m["data"]["n"].as_i64().unwrap()),
        );
        if !got.is_empty() {
            break;
        }
    }
    assert!(!got.is_empty(), "no broadcast crossed nodes");
    let first = got[0];
    for i in first + 1..first + 5 {
        post(
            &a,
            json!([{"channel":"/room/1","clientId":publisher,"data":{"n":i}}]),
        )
        .await?;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while got.len() < 5 && tokio::time::Instant::now() < deadline {
        let v = post(&b, json!([{"channel":"/meta/connect","clientId":sub,"connectionType":"long-polling","advice":{"timeout":1000}}])).await?;
        got.extend(
            v.as_array()
                .unwrap()
                .iter()
                .filter(|m| m["channel"] == "/room/1")
                .map(|m| m["data"]["n"].as_i64().unwrap()),
        );
    }
    assert_eq!(
        got,
        (first..first + 5).collect::<Vec<_>>(),
        "each once, in order"
    );
    stop.cancel();
    Ok(())
}

#[tokio::test]
async fn broadcasts_reach_other_nodes_single_redis() -> R {
    let redis = RedisServer::start()?;
    relay_reaches_other_nodes(&redis.url()).await
}

#[tokio::test]
async fn broadcasts_reach_other_nodes_redis_cluster() -> R {
    let cluster = RedisCluster::start(3)?;
    relay_reaches_other_nodes(&cluster.url()).await
}

/// A node's publishes reach Redis in the order it made them, however fast they come (one
/// sender task; a task per publish let them overtake each other on a multi-threaded runtime).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nodes_publishes_leave_in_order() -> R {
    use chinwag_bayeux::cluster::BroadcastRelay;
    use futures_util::StreamExt;
    let redis = RedisServer::start()?;
    let mut pubsub = redis::Client::open(redis.url())?.get_async_pubsub().await?;
    pubsub.subscribe("chinwag:bx:broadcast").await?;
    let (relay, _worker) = RedisRelay::connect(&redis.url(), "a", &RedisOptions::default()).await?;
    let total = 2000;
    for n in 0..total {
        relay.publish("/room/1", &format!("{{\"n\":{n}}}"));
        if n % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let mut messages = pubsub.on_message();
    let mut got = Vec::with_capacity(total);
    while got.len() < total {
        let msg = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await?
            .ok_or("subscription ended")?;
        let text: String = msg.get_payload()?;
        let data: Value = serde_json::from_str(text.rsplit('\n').next().unwrap_or_default())?;
        got.push(data["n"].as_u64().ok_or("no n")?);
    }
    let want: Vec<u64> = (0..total as u64).collect();
    assert!(
        got == want,
        "publishes reordered: first out of place at {:?}",
        got.iter().zip(&want).position(|(a, b)| a != b)
    );
    Ok(())
}
