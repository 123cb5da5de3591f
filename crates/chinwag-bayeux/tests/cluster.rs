//! Two nodes in one process on the in-memory directory, with a liveness whose name the test
//! changes: a node that lost its liveness (others took it for dead) drops the sessions it
//! recorded under its old name, and another node takes them over — one owner at a time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_bayeux::BayeuxServer;
use chinwag_bayeux::cluster::{
    Cluster, ClusterOptions, DirectoryError, DirectoryWorker, Lease, Liveness, MemoryDirectory,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

type R = Result<(), Box<dyn std::error::Error>>;

/// Names alive, shared by the nodes; each node's own name can change.
#[derive(Default)]
struct Alive(Mutex<HashSet<String>>);

struct Node {
    alive: Arc<Alive>,
    name: Mutex<String>,
}

#[async_trait::async_trait]
impl Liveness for Node {
    fn me(&self) -> String {
        self.name.lock().unwrap().clone()
    }
    async fn alive(&self, node: &str) -> Result<bool, DirectoryError> {
        Ok(self.alive.0.lock().unwrap().contains(node))
    }
}

async fn node(
    name: &str,
    alive: &Arc<Alive>,
    dir: Arc<MemoryDirectory>,
    stop: &CancellationToken,
) -> Result<(BayeuxServer, Arc<Node>, String), Box<dyn std::error::Error>> {
    alive.0.lock().unwrap().insert(name.into());
    let liveness = Arc::new(Node {
        alive: alive.clone(),
        name: Mutex::new(name.into()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = format!("http://{}", listener.local_addr()?);
    let options = ClusterOptions {
        addr: addr.clone(),
        mount: "/cometd".into(),
        secret: "s3cret-s3cret-s3cret".into(),
        lease: Lease {
            lease: Duration::from_secs(60),
            keep: Duration::from_secs(60),
        },
        connect_timeout: Duration::from_secs(1),
        owner_wait: Duration::from_secs(2),
    };
    let server = BayeuxServer::builder(Default::default())
        .cluster(Cluster::new(dir, liveness.clone(), None, options)?)
        .build();
    let app = server.router("/cometd");
    let s = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(s.cancelled_owned())
            .await;
    });
    let worker = DirectoryWorker::new(server.clone());
    tokio::spawn(worker.run(stop.clone()));
    Ok((server, liveness, format!("{addr}/cometd")))
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

async fn connect(url: &str, id: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let v = post(
        url,
        json!([{"channel": "/meta/connect", "clientId": id,
        "connectionType": "long-polling", "advice": {"timeout": 0}}]),
    )
    .await?;
    Ok(v.as_array()
        .and_then(|a| a.iter().find(|m| m["channel"] == "/meta/connect"))
        .cloned()
        .ok_or("no connect reply")?)
}

#[tokio::test]
async fn a_node_that_lost_its_liveness_drops_its_sessions_and_another_takes_them_over() -> R {
    let stop = CancellationToken::new();
    let alive = Arc::new(Alive::default());
    let dir = Arc::new(MemoryDirectory::default());
    let (a, a_live, a_url) = node("a1", &alive, dir.clone(), &stop).await?;
    let (b, _b_live, b_url) = node("b", &alive, dir, &stop).await?;
    let v = post(
        &a_url,
        json!([{"channel": "/meta/handshake", "version": "1.0",
        "supportedConnectionTypes": ["long-polling"]}]),
    )
    .await?;
    let id = v[0]["clientId"].as_str().ok_or("no clientId")?.to_owned();
    // Served through B by its owner A.
    assert_eq!(connect(&b_url, &id).await?["successful"], true);
    assert_eq!((a.session_count(), b.session_count()), (1, 0));
    // A's liveness is lost: others take "a1" for dead; A goes on as "a2".
    alive.0.lock().unwrap().remove("a1");
    *a_live.name.lock().unwrap() = "a2".into();
    alive.0.lock().unwrap().insert("a2".into());
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.session_count() > 0 {
        assert!(Instant::now() < deadline, "A still holds the session");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The client carries on through B, which takes the session over; A then forwards.
    assert_eq!(connect(&b_url, &id).await?["successful"], true);
    assert_eq!((a.session_count(), b.session_count()), (0, 1));
    assert_eq!(connect(&a_url, &id).await?["successful"], true);
    assert_eq!((a.session_count(), b.session_count()), (0, 1));
    stop.cancel();
    Ok(())
}
