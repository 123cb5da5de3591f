//! `to_active_client` over a real CometD session (a small Bayeux long-polling client in
//! this file) against the real binary: a watched chat's events are not pushed while the
//! client keeps connecting; when the client vanishes without a `/meta/disconnect`, the
//! events of the window before its session expires are pushed after `presence_grace`.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::push::{Receiver, health};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) const CHANNEL: &str = "/service/chatV2/customer-support";

/// A Bayeux client over long-polling; every message with `data` it receives lands in
/// `notes`.
pub(crate) struct Comet {
    http: reqwest::Client,
    url: String,
    client_id: String,
    id: AtomicU64,
    notes: Mutex<Vec<Value>>,
}

impl Comet {
    pub(crate) async fn handshake(url: String) -> R<Arc<Self>> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let hs = json!([{"channel": "/meta/handshake", "version": "1.0",
                         "supportedConnectionTypes": ["long-polling"], "id": "1"}]);
        let reply: Vec<Value> = http.post(&url).json(&hs).send().await?.json().await?;
        let client_id = reply[0]["clientId"]
            .as_str()
            .ok_or(format!("handshake: {reply:?}"))?
            .to_owned();
        Ok(Arc::new(Self {
            http,
            url,
            client_id,
            id: AtomicU64::new(1),
            notes: Mutex::default(),
        }))
    }

    /// Sends one message (its `clientId` and `id` added) and keeps what came back with data.
    pub(crate) async fn send(&self, mut msg: Value) -> R<Vec<Value>> {
        msg["clientId"] = json!(self.client_id);
        msg["id"] = json!(self.id.fetch_add(1, Ordering::Relaxed).to_string());
        let reply: Vec<Value> = self
            .http
            .post(&self.url)
            .json(&json!([msg]))
            .send()
            .await?
            .json()
            .await?;
        let data = reply.iter().filter_map(|m| m.get("data").cloned());
        self.notes.lock().unwrap().extend(data);
        Ok(reply)
    }

    /// Keeps connecting until the task is aborted (the client vanishes: no disconnect).
    pub(crate) fn connect_forever(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let connect = json!({"channel": "/meta/connect", "connectionType": "long-polling"});
                if me.send(connect).await.is_err() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        })
    }

    /// Texts of the chat events received over CometD.
    pub(crate) fn texts(&self) -> Vec<String> {
        self.notes
            .lock()
            .unwrap()
            .iter()
            .flat_map(|n| n["messages"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e["text"].as_str().map(str::to_owned))
            .collect()
    }
}

pub(crate) async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> R<T> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn skipped(server: &Server) -> R<u64> {
    Ok(health(server).await?.1["push"]["skipped"]
        .as_u64()
        .unwrap_or(0))
}

#[tokio::test]
async fn events_while_a_cometd_client_vanished_are_pushed_after_the_presence_grace() -> R {
    let (rx, url) = Receiver::start().await?;
    // A session without connects for timeout + maxInterval + a sweep (about 3 s) expires;
    // the grace is longer.
    let cfg = format!(
        "[cometd]\ntimeout_ms = 1000\nmax_interval_ms = 1000\n\n[push]\n\
         enabled = [\"customhttp\"]\ninclude_payload = true\nto_active_client = true\n\
         presence_grace_ms = 5000\n[push.customhttp]\nurl = \"{url}\"\n\n[[agents]]\n\
         id = \"a1\"\nname = \"Alice\"\ntoken = \"agent-token-1\"\ncapacity = 50\n"
    );
    let server = Server::start(&cfg).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    let comet = Comet::handshake(format!("{}/genesys/cometd", server.base)).await?;
    let connecting = comet.connect_forever();
    let user_data = json!({"push_notification_deviceid": "dev-c",
                           "push_notification_type": "customhttp"});
    comet
        .send(json!({"channel": CHANNEL,
                     "data": {"operation": "requestChat", "nickname": "Mo", "userData": user_data}}))
        .await?;
    let mut offers = Vec::new();
    for _ in 0..200 {
        let (_, me) = agent.req(reqwest::Method::GET, "/me", None).await?;
        offers = me["offers"].as_array().cloned().unwrap_or_default();
        if !offers.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let chat_id = offers
        .first()
        .and_then(|o| o["chat_id"].as_str())
        .ok_or("no offer")?
        .to_owned();
    let (s, v) = agent
        .post(&format!("/offers/{chat_id}/accept"), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    let path = format!("/chats/{chat_id}/messages");
    let says = |text: &str| agent.post(&path, json!({"text": text}));
    assert_eq!(says("while connected").await?.0, 200);
    until("the message over CometD", || {
        comet
            .texts()
            .contains(&"while connected".to_owned())
            .then_some(())
    })
    .await?;
    // The client keeps connecting past the grace: the agent's join and message are skipped.
    let deadline = Instant::now() + Duration::from_secs(30);
    while skipped(&server).await? < 2 {
        assert!(Instant::now() < deadline, "pushes not skipped");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        rx.got().is_empty(),
        "no push while connected: {:?}",
        rx.got()
    );

    // The app is killed: no more connects, no /meta/disconnect. Its session is still
    // alive (watched) when the agent writes.
    connecting.abort();
    assert_eq!(says("while gone").await?.0, 200);
    let pushed = rx.wait_for("dev-c", 1).await?;
    let texts: Vec<&Value> = pushed
        .iter()
        .map(|p| &p["message"]["messages"][0]["text"])
        .collect();
    assert_eq!(
        texts,
        ["while gone"],
        "only the event after the client vanished"
    );
    assert_eq!(skipped(&server).await?, 2);
    Ok(())
}
