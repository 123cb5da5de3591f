//! Inactivity control end to end over REST: with short timeouts, a chat an agent took and
//! whose customer only polls (a refresh is no activity) gets the first alert, the second,
//! then `IdleClose` with the customer's `ParticipantLeft` and `chatEnded`, with the
//! configured texts; the agent's stream sees them too. (The timers pass runs every 5 s:
//! waits are bounded at 60 s.)

use crate::common::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const CONFIG: &str = r#"
[services.customer-support.limits]
abandon_after_secs = 0
[services.customer-support.inactivity_control]
enabled = true
timeout_alert_secs = 1
timeout_alert2_secs = 1
timeout_close_secs = 1
message_alert = "first warning"
message_alert2 = "last warning"
message_close = "closed for silence"
"#;

#[tokio::test]
async fn a_silent_customer_gets_both_alerts_then_the_close() -> R {
    let server = Server::start(CONFIG).await?;
    let agent = Agent::new(&server, "demo-agent-token");
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url("demo-agent-token")).await?;
    agent.ready().await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Quiet")]).await?;
    let (s, v) = agent
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let v = loop {
        let (s, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
        assert_eq!(s, 200, "{v}");
        if v["chatEnded"] == true {
            break v;
        }
        assert!(tokio::time::Instant::now() < deadline, "never closed: {v}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let msgs = v["messages"].as_array().ok_or("no messages")?;
    let tail: Vec<(Value, Value, Value)> = msgs
        .iter()
        .filter(|m| m["type"] != "ParticipantJoined")
        .map(|m| {
            (
                m["type"].clone(),
                m["text"].clone(),
                m["from"]["type"].clone(),
            )
        })
        .collect();
    assert_eq!(
        tail,
        [
            (
                json!("IdleAlert"),
                json!("first warning"),
                json!("External")
            ),
            (json!("IdleAlert"), json!("last warning"), json!("External")),
            (
                json!("IdleClose"),
                json!("closed for silence"),
                json!("External")
            ),
            (json!("ParticipantLeft"), Value::Null, json!("Client")),
        ],
        "{v}"
    );
    // The agent saw the same, then the end.
    let mut seen = Vec::new();
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await?
            .ok_or("stream closed")??;
        let Message::Text(t) = msg else { continue };
        let v: Value = serde_json::from_str(&t)?;
        if v["chat_id"] != chat.chat_id.as_str() {
            continue;
        }
        if v["type"] == "event"
            && v["event"]["kind"]
                .as_str()
                .is_some_and(|k| k.starts_with("Idle"))
        {
            seen.push(v["event"]["text"].clone());
        }
        if v["type"] == "chat_ended" {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            json!("first warning"),
            json!("last warning"),
            json!("closed for silence")
        ]
    );
    Ok(())
}
