//! Inactivity control's timers are durable, over the real binary: on SQLite, a server
//! killed (`kill -9`) right after the first alert and started again on the same data sends
//! the second alert and closes the chat, once; on Redis, a chat created on node A, whose
//! agent works through node B, is alerted and closed by B after A was killed, once. The
//! customer only reads with `refresh`, which is no activity.

use crate::common::*;
use chinwag_redis_testkit::RedisServer;
use serde_json::{Value, json};
use std::time::Duration;

const IDLE: &str = "[services.customer-support.limits]\nabandon_after_secs = 0\n\
    [services.customer-support.inactivity_control]\nenabled = true\n\
    timeout_alert_secs = 2\ntimeout_alert2_secs = 2\ntimeout_close_secs = 2\n\
    message_alert = \"first warning\"\nmessage_alert2 = \"last warning\"\n\
    message_close = \"closed for silence\"\n";

/// Refreshes `chat` from the start every 300 ms until `done` holds (at most 60 s).
async fn read_until(chat: &Chat, what: &str, done: impl Fn(&Value) -> bool) -> R<Value> {
    let http = client();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (s, v) = chat
            .call_on(&http, "refresh", &[("transcriptPosition", "1")])
            .await?;
        assert_eq!(s, 200, "{v}");
        if done(&v) {
            return Ok(v);
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {v}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn has_alert(v: &Value) -> bool {
    v["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|e| e["type"] == "IdleAlert"))
}

/// The transcript after the agent's join: (type, text, from.type) of each event.
fn tail(v: &Value) -> Vec<(Value, Value, Value)> {
    v["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|e| e["type"] != "ParticipantJoined")
                .map(|e| {
                    (
                        e["type"].clone(),
                        e["text"].clone(),
                        e["from"]["type"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Both alerts, the close and the customer's departure, each once.
fn closed_once() -> Vec<(Value, Value, Value)> {
    let system = json!("External");
    vec![
        (json!("IdleAlert"), json!("first warning"), system.clone()),
        (json!("IdleAlert"), json!("last warning"), system.clone()),
        (json!("IdleClose"), json!("closed for silence"), system),
        (json!("ParticipantLeft"), Value::Null, json!("Client")),
    ]
}

#[tokio::test]
async fn a_restart_between_alert_and_close_still_closes_once() -> R {
    let server = Server::start(IDLE).await?;
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Quiet")]).await?;
    let (s, v) = agent
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    let v = read_until(&chat, "no first alert", has_alert).await?;
    assert_eq!(tail(&v), closed_once()[..1], "{v}");
    let server = server.restart().await?;
    let v = read_until(&chat, "never closed after the restart", |v| {
        v["chatEnded"] == true
    })
    .await?;
    assert_eq!(tail(&v), closed_once(), "{v}");
    // Well after the close, nothing more was recorded.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, again) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(tail(&again), closed_once(), "{again}");
    drop(server);
    Ok(())
}

#[tokio::test]
async fn a_chat_of_a_killed_node_is_alerted_and_closed_by_the_other_once() -> R {
    let redis = RedisServer::start()?;
    let cfg = format!("[store]\nurl = \"{}\"\n\n{IDLE}", redis.url());
    let mut a = Server::start(&cfg).await?;
    let b = Server::start(&cfg).await?;
    let agent = Agent::new(&b, "demo-agent-token");
    agent.ready().await?;
    let (chat, _) = request_chat(&a, &[("nickname", "Quiet")]).await?;
    let (s, v) = agent
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    a.kill9()?;
    let via_b = Chat {
        url: b.gms("customer-support"),
        ..chat
    };
    let v = read_until(&via_b, "B never closed A's chat", |v| {
        v["chatEnded"] == true
    })
    .await?;
    assert_eq!(tail(&v), closed_once(), "{v}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, again) = via_b
        .call("refresh", &[("transcriptPosition", "1")])
        .await?;
    assert_eq!(tail(&again), closed_once(), "{again}");
    Ok(())
}
