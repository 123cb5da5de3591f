//! Chats the system ends by itself, end to end: with `abandon_after_secs` small, a chat
//! whose customer stopped polling ends with a Notice and the customer's ParticipantLeft,
//! which the agent sees on its event stream, while a chat that is polled stays open; with
//! `max_wait_secs` small and no agent free, a waiting chat ends with the "no agent" notice
//! while a chat an agent took stays open. (The lifecycle sweep runs every 5 s: waits are
//! bounded at 30 s.)

use crate::common::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const ABANDONED: &str = "The chat was closed because the customer was inactive.";
const NO_AGENT: &str = "The chat was closed because no agent became available.";

/// The last two events of `chat` as its customer reads them, and whether it ended.
async fn ending(chat: &Chat) -> R<(bool, Vec<Value>)> {
    let (s, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(s, 200, "{v}");
    let msgs = v["messages"].as_array().ok_or("no messages")?;
    let tail = msgs[msgs.len().saturating_sub(2)..].to_vec();
    Ok((v["chatEnded"] == true, tail))
}

/// Asserts the system's notice `why` then the customer's leave.
fn ended_with(tail: &[Value], why: &str) {
    assert_eq!(tail.len(), 2, "{tail:?}");
    assert_eq!(
        (&tail[0]["type"], &tail[0]["text"]),
        (&json!("Notice"), &json!(why)),
        "{tail:?}"
    );
    assert_eq!(
        (&tail[1]["type"], &tail[1]["from"]["type"]),
        (&json!("ParticipantLeft"), &json!("Client")),
        "{tail:?}"
    );
}

#[tokio::test]
async fn an_unpolled_chat_is_ended_as_abandoned_and_a_polled_one_is_not() -> R {
    let cfg = "[services.customer-support.limits]\nabandon_after_secs = 3\n";
    let server = Server::start(cfg).await?;
    let agent = Agent::new(&server, "demo-agent-token");
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url("demo-agent-token")).await?;
    agent.ready().await?;
    let (silent, _) = request_chat(&server, &[("nickname", "Silent")]).await?;
    let (polled, _) = request_chat(&server, &[("nickname", "Polled")]).await?;
    for chat in [&silent, &polled] {
        let (s, v) = agent
            .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
            .await?;
        assert_eq!(s, 200, "{v}");
    }
    let poller = {
        let chat = polled.clone();
        tokio::spawn(async move {
            let http = client();
            loop {
                let _ = chat.call_on(&http, "refresh", &[]).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };
    // The agent sees the silent chat's notice, its customer leaving, and its end.
    let (mut seen, mut polled_ended) = (Vec::new(), false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await?
            .ok_or("stream closed")??;
        let Message::Text(t) = msg else { continue };
        let v: Value = serde_json::from_str(&t)?;
        polled_ended |= v["chat_id"] == polled.chat_id.as_str() && v["type"] == "chat_ended";
        if v["chat_id"] != silent.chat_id.as_str() {
            continue;
        }
        if v["type"] == "event" {
            seen.push((v["event"]["kind"].clone(), v["event"]["text"].clone()));
        }
        if v["type"] == "chat_ended" {
            break;
        }
    }
    let tail = &seen[seen.len().saturating_sub(2)..];
    assert_eq!(
        tail,
        [
            (json!("Notice"), json!(ABANDONED)),
            (json!("ParticipantLeft"), Value::Null)
        ],
        "{seen:?}"
    );
    let (is_ended, tail) = ending(&silent).await?;
    assert!(is_ended);
    ended_with(&tail, ABANDONED);
    // The polled chat outlives another sweep or two.
    tokio::time::sleep(Duration::from_secs(6)).await;
    poller.abort();
    let (is_ended, _) = ending(&polled).await?;
    assert!(!is_ended && !polled_ended, "a polled chat was ended");
    let (_, me) = agent.req(reqwest::Method::GET, "/me", None).await?;
    assert_eq!(me["chats"], json!([polled.chat_id]), "{me}");
    Ok(())
}

#[tokio::test]
async fn a_chat_waiting_past_max_wait_is_ended_with_the_no_agent_notice() -> R {
    let cfg = r#"
[queues.default]
max_wait_secs = 2
[services.customer-support.limits]
abandon_after_secs = 0
[[agents]]
id = "solo"
token = "solo-agent-token"
queues = ["default"]
capacity = 1
"#;
    let server = Server::start(cfg).await?;
    let agent = Agent::new(&server, "solo-agent-token");
    let (taken, _) = request_chat(&server, &[("nickname", "Taken")]).await?;
    agent.ready().await?;
    let (s, v) = agent
        .post(&format!("/offers/{}/accept", taken.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    // The only agent is busy: this one waits, polling, until the queue gives up on it.
    let (waiting, _) = request_chat(&server, &[("nickname", "Waiting")]).await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let tail = loop {
        let (is_ended, tail) = ending(&waiting).await?;
        if is_ended {
            break tail;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the waiting chat never ended"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    ended_with(&tail, NO_AGENT);
    // The chat an agent took is older than the maximum wait and goes on.
    let (is_ended, _) = ending(&taken).await?;
    assert!(!is_ended);
    let (s, _) = taken
        .call("send", &[("message", "still with my agent")])
        .await?;
    assert_eq!(s, 200);
    let (_, me) = agent.req(reqwest::Method::GET, "/me", None).await?;
    assert_eq!(
        (&me["chats"], &me["offers"]),
        (&json!([taken.chat_id]), &json!([])),
        "{me}"
    );
    Ok(())
}
