//! Three binaries on one Redis (a single server, and a three-primary cluster), serving one
//! CometD client whose every request lands on another node, as plain round-robin would send
//! it: the handshake on A, connects and publishes on B and C, while a second client of the
//! chat writes through C. No request gets `402`, and the chat's events reach the client once
//! each, in order (only the owner, A, delivers; B and C forward to it). Then A is killed
//! with SIGKILL: the next request, on B, takes the session over with the same clientId and
//! rebuilds its watch, and the client gets every later event — the other client's too, which only
//! the rebuilt watch delivers — in order after dedupe by transcript index (events A had sent
//! but the client had not confirmed may come again). A's sessions are taken over once its
//! node lease (`store.lease_ttl_ms`, short here) has run out; meanwhile requests for them wait.
//!
//! More (idle cost, broadcasts) in `cluster_bayeux_more.rs`.

use crate::adv_cometd::{CHANNEL, bounded};
use crate::common::*;
use chinwag_redis_testkit::{RedisCluster, RedisServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A long-polling client that sends each request to the node it is told.
pub(crate) struct Client {
    http: reqwest::Client,
    urls: Vec<String>,
    pub(crate) id: String,
    seq: u64,
    /// Every delivery's data, in arrival order.
    pub(crate) notes: Vec<Value>,
    /// Every reply carrying an error.
    pub(crate) errors: Vec<Value>,
}

impl Client {
    pub(crate) fn new(nodes: &[&Server]) -> R<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(40))
                .build()?,
            urls: nodes
                .iter()
                .map(|s| format!("{}/genesys/cometd", s.base))
                .collect(),
            id: String::new(),
            seq: 0,
            notes: Vec::new(),
            errors: Vec::new(),
        })
    }

    pub(crate) async fn post(&mut self, node: usize, mut msg: Value) -> R<Vec<Value>> {
        self.seq += 1;
        msg["id"] = json!(self.seq.to_string());
        if !self.id.is_empty() {
            msg["clientId"] = json!(self.id);
        }
        let r = self
            .http
            .post(&self.urls[node])
            .json(&json!([msg]))
            .send()
            .await?;
        assert_eq!(r.status(), 200, "node {node}");
        let reply: Vec<Value> = r.json().await?;
        for m in &reply {
            if m.get("data").is_some() {
                self.notes.push(m["data"].clone());
            } else if m["successful"] == false {
                self.errors.push(m.clone());
            }
        }
        Ok(reply)
    }

    pub(crate) async fn handshake(&mut self, node: usize) -> R {
        let r = self
            .post(
                node,
                json!({"channel": "/meta/handshake", "version": "1.0",
                               "supportedConnectionTypes": ["long-polling"]}),
            )
            .await?;
        self.id = r[0]["clientId"].as_str().ok_or("no clientId")?.to_owned();
        Ok(())
    }

    pub(crate) async fn connect(&mut self, node: usize) -> R<Value> {
        let r = self
            .post(
                node,
                json!({"channel": "/meta/connect", "connectionType": "long-polling",
                               "advice": {"timeout": 500}}),
            )
            .await?;
        r.into_iter()
            .find(|m| m["channel"] == "/meta/connect")
            .ok_or_else(|| "no connect reply".into())
    }

    async fn publish(&mut self, node: usize, data: Value) -> R<Value> {
        let r = self
            .post(node, json!({"channel": CHANNEL, "data": data}))
            .await?;
        r.into_iter()
            .find(|m| m["channel"] == CHANNEL && m.get("successful").is_some())
            .ok_or_else(|| "no publish reply".into())
    }

    fn texts(&self) -> Vec<String> {
        self.events()
            .iter()
            .filter(|e| e["type"] == "Message")
            .filter_map(|e| e["text"].as_str().map(str::to_owned))
            .collect()
    }

    fn events(&self) -> Vec<Value> {
        self.notes
            .iter()
            .flat_map(|n| n["messages"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    fn indexes(&self) -> Vec<u64> {
        self.events()
            .iter()
            .filter_map(|e| e["index"].as_u64())
            .collect()
    }

    /// Connects round the `nodes` until `text` has arrived (at most 30 s).
    async fn until_text(&mut self, nodes: &[usize], text: &str) -> R {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut i = 0;
        while !self.texts().iter().any(|t| t == text) {
            if Instant::now() > deadline {
                return Err(format!("'{text}' never arrived: {:?}", self.notes).into());
            }
            let c = self.connect(nodes[i % nodes.len()]).await?;
            assert_eq!(
                c["successful"],
                true,
                "connect on node {}: {c}",
                nodes[i % nodes.len()]
            );
            i += 1;
        }
        Ok(())
    }
}

async fn three_nodes(url: &str) -> R<(Server, Server, Server)> {
    let keys = tempfile::tempdir()?.keep().join("cometd.key");
    let config = format!(
        "[store]\nurl = \"{url}\"\nlease_ttl_ms = 1500\n[cometd]\nkey_file = \"{}\"\n",
        keys.display()
    );
    let a = Server::start(&config).await?;
    let b = Server::start(&config).await?;
    let c = Server::start(&config).await?;
    Ok((a, b, c))
}

async fn a_client_is_served_by_every_node(url: &str) -> R {
    let (mut a, b, c) = three_nodes(url).await?;
    let mut cl = Client::new(&[&a, &b, &c])?;
    cl.handshake(0).await?;
    let id = cl.id.clone();
    let first = cl.connect(1).await?;
    assert_eq!(
        first["successful"], true,
        "a connect on B for A's session: {first}"
    );
    let r = cl
        .publish(2, json!({"operation": "requestChat", "nickname": "Roamer"}))
        .await?;
    assert_eq!(r["successful"], true, "{r}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while cl.notes.is_empty() {
        assert!(Instant::now() < deadline, "no requestChat answer");
        cl.connect(1).await?;
    }
    let key = cl.notes[0]["secureKey"]
        .as_str()
        .ok_or(format!("no secureKey: {}", cl.notes[0]))?
        .to_owned();
    // A second client of the same chat, owned by C: what it writes reaches the first one
    // only through the first one's watch.
    let mut other = Client::new(&[&a, &b, &c])?;
    other.handshake(2).await?;
    let watch =
        json!({"operation": "requestNotifications", "secureKey": key, "transcriptPosition": 1});
    let r = other.publish(2, watch).await?;
    assert_eq!(r["successful"], true, "{r}");

    // Before: messages published through every node, connects on every node.
    for i in 0..6 {
        let data =
            json!({"operation": "sendMessage", "secureKey": key, "message": format!("m{i}")});
        let r = cl.publish(i % 3, data).await?;
        assert_eq!(r["successful"], true, "{r}");
        let data =
            json!({"operation": "sendMessage", "secureKey": key, "message": format!("other {i}")});
        let r = other.publish(2, data).await?;
        assert_eq!(r["successful"], true, "{r}");
    }
    bounded("the messages", 60, cl.until_text(&[1, 2, 0], "other 5")).await?;
    assert!(cl.errors.is_empty(), "no request failed: {:?}", cl.errors);
    let before = cl.indexes();
    let last = *before.last().ok_or("no events")?;
    assert_eq!(
        before,
        (1..=last).collect::<Vec<_>>(),
        "every index once, in order"
    );
    let want: Vec<String> = (0..6)
        .flat_map(|i| [format!("m{i}"), format!("other {i}")])
        .collect();
    assert_eq!(cl.texts(), want);

    // The owner dies; B and C carry on with the same clientId.
    a.kill9()?;
    for i in 6..12 {
        let data =
            json!({"operation": "sendMessage", "secureKey": key, "message": format!("m{i}")});
        let r = bounded(
            "a publish after the owner died",
            30,
            cl.publish(1 + i % 2, data),
        )
        .await?;
        assert_eq!(r["successful"], true, "{r}");
        let data =
            json!({"operation": "sendMessage", "secureKey": key, "message": format!("other {i}")});
        let r = other.publish(2, data).await?;
        assert_eq!(r["successful"], true, "{r}");
    }
    bounded("the messages after", 60, cl.until_text(&[2, 1], "other 11")).await?;
    assert_eq!(cl.id, id);
    assert!(
        cl.errors
            .iter()
            .all(|e| !e["error"].as_str().unwrap_or("").starts_with("402")),
        "no 402: {:?}",
        cl.errors
    );
    // After dedupe by index: every index once, in order.
    let mut seen = Vec::new();
    for i in cl.indexes() {
        if !seen.contains(&i) {
            assert!(
                seen.last().is_none_or(|l| *l < i),
                "in order: {:?}",
                cl.indexes()
            );
            seen.push(i);
        }
    }
    let top = *seen.last().ok_or("no events")?;
    assert_eq!(
        seen,
        (1..=top).collect::<Vec<_>>(),
        "nothing lost: {:?}",
        cl.indexes()
    );
    let texts = cl.texts();
    let want: Vec<String> = (0..12)
        .flat_map(|i| [format!("m{i}"), format!("other {i}")])
        .collect();
    let mut unique = Vec::new();
    for t in texts {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    assert_eq!(unique, want);
    // One node took the session over, once.
    let mut takeovers = 0.0;
    for s in [&b, &c] {
        let text = client()
            .get(format!("{}/metrics", s.base))
            .send()
            .await?
            .text()
            .await?;
        let line = text
            .lines()
            .find(|l| l.starts_with("chinwag_bayeux_takeovers_total "))
            .ok_or("no chinwag_bayeux_takeovers_total")?;
        takeovers += line.rsplit(' ').next().ok_or("value")?.parse::<f64>()?;
    }
    assert_eq!(takeovers, 1.0, "the session was taken over once");
    drop((b, c));
    Ok(())
}

#[tokio::test]
async fn a_cometd_client_roams_over_three_nodes_and_survives_its_owner_single_redis() -> R {
    let redis = RedisServer::start()?;
    a_client_is_served_by_every_node(&redis.url()).await
}

#[tokio::test]
async fn a_cometd_client_roams_over_three_nodes_and_survives_its_owner_redis_cluster() -> R {
    let cluster = RedisCluster::start(3)?;
    a_client_is_served_by_every_node(&cluster.url()).await
}

/// Reads frames from `ws` into `got` until `done` says so (at most 20 s).
async fn ws_until(
    ws: &mut crate::redis_feed::Socket,
    got: &mut Vec<Value>,
    done: impl Fn(&[Value]) -> bool,
) -> R {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done(got) {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| format!("timed out; got {got:?}"))?
            .ok_or("socket closed")??;
        if let tokio_tungstenite::tungstenite::Message::Text(t) = frame {
            got.extend(serde_json::from_str::<Vec<Value>>(&t)?);
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_websocket_opened_on_another_node_is_relayed_to_the_session_owner() -> R {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let redis = RedisServer::start()?;
    let (a, b, _c) = three_nodes(&redis.url()).await?;
    // Handshake over HTTP on A (as Faye does), then the WebSocket lands on B.
    let mut cl = Client::new(&[&a, &b])?;
    cl.handshake(0).await?;
    let url = format!("ws://{}/genesys/cometd", b.addr());
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let id = cl.id.clone();
    let send = |msgs: Value| Message::text(msgs.to_string());
    ws.send(send(json!([{"channel": "/meta/connect", "clientId": id, "connectionType": "websocket", "id": "c1"},
                        {"channel": CHANNEL, "clientId": id, "id": "p1",
                         "data": {"operation": "requestChat", "nickname": "Socket"}}])))
        .await?;
    let mut got = Vec::new();
    let has_key = |got: &[Value]| got.iter().any(|m| m["data"]["secureKey"].is_string());
    ws_until(&mut ws, &mut got, has_key).await?;
    let key = got
        .iter()
        .find_map(|m| m["data"]["secureKey"].as_str())
        .ok_or("key")?
        .to_owned();
    for i in 0..3 {
        let data =
            json!({"operation": "sendMessage", "secureKey": key, "message": format!("w{i}")});
        ws.send(send(
            json!([{"channel": CHANNEL, "clientId": id, "id": format!("s{i}"), "data": data}]),
        ))
        .await?;
    }
    let texts = |got: &[Value]| -> Vec<String> {
        got.iter()
            .flat_map(|m| {
                m["data"]["messages"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter(|e| e["type"] == "Message")
            .filter_map(|e| e["text"].as_str().map(str::to_owned))
            .collect()
    };
    ws_until(&mut ws, &mut got, |g| texts(g).contains(&"w2".to_owned())).await?;
    assert_eq!(texts(&got), ["w0", "w1", "w2"]);
    let idx: Vec<u64> = got
        .iter()
        .flat_map(|m| {
            m["data"]["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|e| e["index"].as_u64())
        .collect();
    let top = *idx.last().ok_or("no events")?;
    assert_eq!(
        idx,
        (1..=top).collect::<Vec<_>>(),
        "every index once, in order"
    );
    assert!(
        got.iter().all(|m| m["successful"] != false),
        "no failure (402): {got:?}"
    );
    // The owner (A) holds the session; B only relays.
    let sessions = |s: &Server| {
        let url = format!("{}/metrics", s.base);
        async move { R::Ok(client().get(url).send().await?.text().await?) }
    };
    let on_b = sessions(&b).await?;
    assert!(
        on_b.lines()
            .any(|l| l.starts_with("chinwag_bayeux_sessions")
                && l.contains("websocket")
                && l.ends_with(" 0")),
        "B holds no WebSocket session: {}",
        on_b.lines()
            .filter(|l| l.starts_with("chinwag_bayeux_sessions"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    Ok(())
}

#[tokio::test]
async fn a_client_cannot_pass_its_request_off_as_forwarded_by_a_node() -> R {
    let redis = RedisServer::start()?;
    let keys = tempfile::tempdir()?.keep().join("cometd.key");
    let config = format!(
        "[store]\nurl = \"{}\"\n[cometd]\nkey_file = \"{}\"\n",
        redis.url(),
        keys.display()
    );
    let a = Server::start(&config).await?;
    let hs = json!([{"channel": "/meta/handshake", "version": "1.0",
                     "supportedConnectionTypes": ["long-polling"]}]);
    for (path, secret) in [
        ("/genesys/cometd", "guess"),
        ("/genesys/cometd/connect", ""),
    ] {
        let r = client()
            .post(format!("{}{path}", a.base))
            .header("x-chinwag-forward", secret)
            .header("x-chinwag-client", "10.9.9.9")
            .json(&hs)
            .send()
            .await?;
        assert_eq!(r.status(), 403, "{path}");
        let v: Value = r.json().await?;
        assert_eq!(v[0]["error"], "403::forward_denied", "{v}");
    }
    // Without the header the same request is served.
    let r = client()
        .post(format!("{}/genesys/cometd", a.base))
        .json(&hs)
        .send()
        .await?;
    let v: Value = r.json().await?;
    assert_eq!(v[0]["successful"], true, "{v}");
    Ok(())
}
