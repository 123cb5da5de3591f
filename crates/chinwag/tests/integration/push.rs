//! Push notifications end to end: the real binary POSTs customhttp pushes to a real local
//! receiver (an HTTP server in this test), in every body form, through failures, resends
//! and a kill -9 restart.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Got {
    pub(crate) body: Value,
    raw: String,
    headers: HeaderMap,
    /// Answered 2xx.
    pub(crate) ok: bool,
}

#[derive(Default)]
pub(crate) struct Inner {
    got: Mutex<Vec<Got>>,
    /// Answer 503 to request numbers n where n % fail_every == 0 (0: never).
    fail_every: AtomicUsize,
    /// Answer 503 to everything while set.
    pub(crate) down: std::sync::atomic::AtomicBool,
    /// Answer 503 to the next n requests for a device.
    fail_next: Mutex<HashMap<String, usize>>,
    count: AtomicUsize,
    in_flight: Mutex<HashMap<String, usize>>,
    max_per_device: AtomicUsize,
    max_total: AtomicUsize,
    delay_ms: AtomicUsize,
}

/// A customhttp receiver (a real local HTTP server).
#[derive(Clone, Default)]
pub(crate) struct Receiver(pub(crate) Arc<Inner>);

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let raw = body;
    let body: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
    let device = body["deviceId"].as_str().unwrap_or_default().to_owned();
    let n = r.0.count.fetch_add(1, Ordering::SeqCst) + 1;
    {
        let mut f = r.0.in_flight.lock().unwrap();
        let d = f.entry(device.clone()).or_default();
        *d += 1;
        r.0.max_per_device.fetch_max(*d, Ordering::SeqCst);
        let total: usize = f.values().sum();
        r.0.max_total.fetch_max(total, Ordering::SeqCst);
    }
    let delay = r.0.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis((n as u64 * 7) % delay as u64)).await;
    }
    let every = r.0.fail_every.load(Ordering::SeqCst);
    let scripted_failure = {
        let mut f = r.0.fail_next.lock().unwrap();
        f.get_mut(&device).is_some_and(|left| {
            let fail = *left > 0;
            *left = left.saturating_sub(1);
            fail
        })
    };
    let ok =
        !r.0.down.load(Ordering::SeqCst) && (every == 0 || n % every != 0) && !scripted_failure;
    *r.0.in_flight.lock().unwrap().get_mut(&device).unwrap() -= 1;
    r.0.got.lock().unwrap().push(Got {
        body,
        raw,
        headers,
        ok,
    });
    if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

impl Receiver {
    pub(crate) async fn start() -> R<(Self, String)> {
        let r = Receiver::default();
        let app = axum::Router::new()
            .route("/push", axum::routing::post(receive))
            .with_state(r.clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/push", l.local_addr()?);
        tokio::spawn(async move { axum::serve(l, app).await });
        Ok((r, url))
    }

    pub(crate) fn got(&self) -> Vec<Got> {
        self.0.got.lock().unwrap().clone()
    }

    /// Successful pushes to `device`, in arrival order.
    pub(crate) fn delivered(&self, device: &str) -> Vec<Value> {
        self.got()
            .into_iter()
            .filter(|g| g.ok && g.body["deviceId"] == device)
            .map(|g| g.body)
            .collect()
    }

    /// Answers 503 to the next `n` requests for `device`.
    pub(crate) fn fail_next(&self, device: &str, n: usize) {
        self.0
            .fail_next
            .lock()
            .unwrap()
            .insert(device.to_owned(), n);
    }

    pub(crate) async fn wait_for(&self, device: &str, n: usize) -> R<Vec<Value>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let d = self.delivered(device);
            if d.len() >= n {
                return Ok(d);
            }
            if Instant::now() > deadline {
                return Err(
                    format!("{device}: {} of {n} pushes: {:?}", d.len(), self.got()).into(),
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub(crate) fn config(url: &str, extra: &str) -> String {
    format!(
        "[push]\nenabled = [\"comet\", \"customhttp\"]\non_join = true\nresend_delay_secs = 1\nresend_attempts = 2\nretry_base_ms = 50\nretry_max_ms = 200\n{extra}\n[push.customhttp]\nurl = \"{url}\"\nhmac_secret = \"s3cret\"\n\n[[agents]]\nid = \"a1\"\nname = \"Alice\"\ntoken = \"agent-token-1\"\ncapacity = 50\n"
    )
}

pub(crate) async fn subscribed(server: &Server, device: &str, extra: &[(&str, &str)]) -> R<Chat> {
    let mut pairs = vec![
        ("nickname", "Pat"),
        ("userData[GCTI_Chat_PushSubscribe]", "true"),
        ("userData[GCTI_GMS_PushDeviceId]", device),
        ("userData[GCTI_GMS_PushDeviceType]", "customhttp"),
    ];
    pairs.extend_from_slice(extra);
    Ok(request_chat(server, &pairs).await?.0)
}

pub(crate) async fn agent_says(agent: &Agent, chat: &Chat, text: &str) -> R {
    let (s, v) = agent
        .post(
            &format!("/chats/{}/messages", chat.chat_id),
            json!({"text": text}),
        )
        .await?;
    assert_eq!(s, 200, "{v}");
    Ok(())
}

pub(crate) async fn accept(agent: &Agent, chat: &Chat) -> R {
    let (s, v) = agent
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    Ok(())
}

#[tokio::test]
async fn customhttp_bodies_match_the_gms_forms_field_by_field() -> R {
    let (rx, url) = Receiver::start().await?;
    // A named provider with its own channel, replacing the content (customhttp.message).
    let acme = format!(
        "[push.provider.acme.customhttp]\nurl = \"{url}\"\nmessage = \"Open the app\"\nhmac_secret = \"s3cret\"\n"
    );
    let server = Server::start(&config(&url, &acme)).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    let overridden = subscribed(
        &server,
        "dev-acme",
        &[
            ("userData[GCTI_GMS_PushProvider]", "acme"),
            ("userData[GCTI_GMS_PushIncludePayload]", "true"),
        ],
    )
    .await?;
    let payload = subscribed(
        &server,
        "dev-payload",
        &[("userData[GCTI_GMS_PushIncludePayload]", "true")],
    )
    .await?;
    let bare = subscribed(&server, "dev-bare", &[]).await?;
    let reliable = subscribed(
        &server,
        "dev-reliable",
        &[
            ("userData[GCTI_GMS_PushResend]", "true"),
            ("userData[GCTI_GMS_PushIncludePayload]", "true"),
        ],
    )
    .await?;
    for chat in [&payload, &bare, &reliable, &overridden] {
        accept(&agent, chat).await?;
        // The customer's own message is not pushed (no NotifyRequestor).
        chat.call("send", &[("message", "from me")]).await?;
        agent_says(&agent, chat, "hello").await?;
    }
    // Pushes: the agent's join (index 2) and message (index 4).
    let p = rx.wait_for("dev-payload", 2).await?;
    let m = &p[1]["message"];
    assert_eq!(m["messages"].as_array().map(Vec::len), Some(1));
    let e = &m["messages"][0];
    assert_eq!(
        (e["type"].clone(), e["text"].clone(), e["index"].clone()),
        (json!("Message"), json!("hello"), json!(4))
    );
    assert_eq!(
        e["from"],
        json!({"nickname": "Alice", "participantId": 2, "type": "Agent"})
    );
    assert!(e["utcTime"].is_i64());
    assert_eq!(m["chatEnded"], false);
    assert_eq!(m["statusCode"], 0);
    assert_eq!(m["alias"], "0");
    assert_eq!(m["userId"], "deprecated");
    assert_eq!(m["chatId"], "deprecated");
    assert_eq!(m["nextPosition"], 5);
    assert_eq!(m["monitored"], false);
    assert!(m["secureKey"].as_str().is_some_and(|k| !k.is_empty()));
    assert_eq!(p[0]["message"]["messages"][0]["type"], "ParticipantJoined");

    let b = rx.wait_for("dev-bare", 2).await?;
    assert_eq!(
        b[1],
        json!({"deviceId": "dev-bare"}),
        "no payload: only the device id"
    );

    let r = rx.wait_for("dev-reliable", 2).await?;
    let m = &r[1]["message"];
    let e = &m["messages"][0];
    assert_eq!(e["type"], "PushUrl");
    assert_eq!(e["text"], "PUSH-NOTIFICATION");
    assert_eq!(e["index"], 0);
    assert_eq!(
        e["from"],
        json!({"nickname": "", "participantId": 0, "type": "Client"})
    );
    // The customer has fetched only its own join (requestChat answered with index 1; a
    // REST send answers with no events), so the first position it has not read is 2.
    assert_eq!(e["userData"]["notify-attempt"], "0");
    assert_eq!(e["userData"]["notify-position"], "2");
    assert_eq!(e["userData"]["session-id"], reliable.chat_id.as_str());
    assert_eq!(e["userData"]["user-id"], reliable.user_id.as_str());
    assert!(
        e["userData"].get("secure-key").is_none(),
        "not in the default flex-push-content"
    );
    assert_eq!(m["nextPosition"], 5);
    assert_eq!(m["chatId"], "deprecated");

    let o = rx.wait_for("dev-acme", 2).await?;
    assert_eq!(
        o[1],
        json!({"deviceId": "dev-acme", "message": "Open the app"}),
        "the provider's customhttp.message replaces the content"
    );

    // Every request is signed: sha256=HMAC(secret, "<timestamp>.<body>").
    for g in rx.got() {
        let ts = g.headers["x-chinwag-timestamp"].to_str()?.to_owned();
        let sig = g.headers["x-chinwag-signature"].to_str()?.to_owned();
        assert_eq!(
            sig,
            chinwag_push::customhttp::signature("s3cret", &ts, g.raw.as_bytes())
        );
    }
    // Exactly two pushes per device: nothing for the customer's own message.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.delivered("dev-payload").len(), 2);
    assert_eq!(rx.delivered("dev-bare").len(), 2);
    Ok(())
}

fn index_of(push: &Value) -> i64 {
    push["message"]["messages"][0]["index"]
        .as_i64()
        .unwrap_or(-1)
}

fn attempt_of(push: &Value) -> String {
    push["message"]["messages"][0]["userData"]["notify-attempt"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn reliable_pushes_survive_a_flaky_receiver_and_resend_until_a_refresh() -> R {
    let (rx, url) = Receiver::start().await?;
    // Every third request fails with 503.
    rx.0.fail_every.store(3, Ordering::SeqCst);
    let server = Server::start(&config(&url, "")).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    let chat = subscribed(
        &server,
        "dev-r",
        &[("userData[GCTI_GMS_PushResend]", "true")],
    )
    .await?;
    accept(&agent, &chat).await?;
    for i in 0..5 {
        agent_says(&agent, &chat, &format!("m{i}")).await?;
    }
    // Join (2) and five messages (3..=7): each delivered, in order, despite the failures.
    let first = rx.wait_for("dev-r", 6).await?;
    let idx: Vec<String> = first
        .iter()
        .map(|p| {
            p["message"]["messages"][0]["userData"]["notify-position"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(
        idx,
        ["2", "2", "2", "2", "2", "2"],
        "nothing fetched since index 2"
    );
    assert!(
        rx.got().iter().any(|g| !g.ok),
        "the receiver did fail some requests"
    );
    // No refresh: the newest push is resent after resend_delay (1 s), up to 2 times; the
    // older ones are covered by it and not resent.
    let all = rx.wait_for("dev-r", 8).await?;
    let attempts: Vec<String> = all.iter().map(attempt_of).collect();
    assert_eq!(attempts[..6], ["0", "0", "0", "0", "0", "0"]);
    assert_eq!(attempts[6..], ["1", "2"], "resends carry notify-attempt");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        rx.delivered("dev-r").len(),
        8,
        "no more than resend_attempts resends"
    );

    // A refresh that reaches the pushed event acknowledges it: no resend.
    agent_says(&agent, &chat, "again").await?;
    let got = rx.wait_for("dev-r", 9).await?;
    assert_eq!(attempt_of(&got[8]), "0");
    let (s, _) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(s, 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        rx.delivered("dev-r").len(),
        9,
        "acknowledged by the refresh"
    );
    let (_, health) = health(&server).await?;
    assert!(
        health["push"]["acknowledged"].as_u64() >= Some(1),
        "{health}"
    );
    assert!(health["push"]["resent"].as_u64() == Some(2), "{health}");
    Ok(())
}

pub(crate) async fn health(server: &Server) -> R<(u16, Value)> {
    let r = client()
        .get(format!("{}/health", server.base))
        .send()
        .await?;
    Ok((r.status().as_u16(), r.json().await?))
}

#[tokio::test]
async fn queued_pushes_survive_kill_9_and_go_out_in_order() -> R {
    let (rx, url) = Receiver::start().await?;
    rx.0.down.store(true, Ordering::SeqCst);
    let server = Server::start(&config(&url, "retry_max_tries = 1000")).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    let chat = subscribed(
        &server,
        "dev-k",
        &[("userData[GCTI_GMS_PushIncludePayload]", "true")],
    )
    .await?;
    accept(&agent, &chat).await?;
    for i in 0..5 {
        agent_says(&agent, &chat, &format!("m{i}")).await?;
    }
    // Wait until the receiver has refused at least one try, then kill the server.
    let deadline = Instant::now() + Duration::from_secs(10);
    while rx.got().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rx.delivered("dev-k").is_empty());
    let server = server.restart().await?;
    rx.0.down.store(false, Ordering::SeqCst);
    let got = rx.wait_for("dev-k", 6).await?;
    let idx: Vec<i64> = got.iter().map(index_of).collect();
    assert_eq!(idx, [2, 3, 4, 5, 6, 7], "every queued push, in order, once");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.delivered("dev-k").len(), 6, "no duplicates");
    drop(server);
    Ok(())
}

#[tokio::test]
async fn each_device_gets_its_pushes_in_order_while_devices_run_concurrently() -> R {
    let (rx, url) = Receiver::start().await?;
    rx.0.delay_ms.store(30, Ordering::SeqCst);
    let server = Server::start(&config(&url, "")).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    let mut chats = Vec::new();
    for i in 0..12 {
        let device = format!("dev-{}", i % 4);
        let chat = subscribed(
            &server,
            &device,
            &[("userData[GCTI_GMS_PushIncludePayload]", "true")],
        )
        .await?;
        accept(&agent, &chat).await?;
        chats.push((device, chat));
    }
    for round in 0..4 {
        for (_, chat) in &chats {
            agent_says(&agent, chat, &format!("r{round}")).await?;
        }
    }
    for d in 0..4 {
        // 3 chats per device, each: join + 4 messages.
        let got = rx.wait_for(&format!("dev-{d}"), 15).await?;
        let mut last: HashMap<String, i64> = HashMap::new();
        for p in &got {
            let key = p["message"]["secureKey"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let i = index_of(p);
            assert!(
                last.get(&key).is_none_or(|l| *l < i),
                "dev-{d}: out of order"
            );
            last.insert(key, i);
        }
    }
    assert_eq!(
        rx.0.max_per_device.load(Ordering::SeqCst),
        1,
        "one push in flight per device"
    );
    assert!(
        rx.0.max_total.load(Ordering::SeqCst) > 1,
        "devices are served concurrently"
    );
    Ok(())
}
