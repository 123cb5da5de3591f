//! Supervision through the real binary, as a GMS REST customer sees it: a silent monitor
//! makes the chat `monitored` with no participant event, and its leaving makes it not
//! monitored again; a take-over shows the agent leaving and the supervisor joining as an
//! `Agent`, and the removed agent's event stream hears its own leaving.

use crate::common::*;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const CONFIG: &str = r#"
[[agents]]
id = "alice"
name = "Alice"
token = "alice-token-1"
queues = ["default"]
[[agents]]
id = "boss"
name = "Boss"
token = "boss-token-1"
queues = ["default"]
role = "supervisor"
"#;

/// Everything the customer's transcript holds, by REST `refresh` from position 1.
async fn refresh(chat: &Chat) -> R<Value> {
    let (s, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(s, 200, "{v}");
    Ok(v)
}

/// (type, from.type, from.nickname) of each message of a REST answer.
fn lines(v: &Value) -> Vec<(String, String, String)> {
    let text = |x: &Value| x.as_str().unwrap_or_default().to_owned();
    v["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|e| {
                    (
                        text(&e["type"]),
                        text(&e["from"]["type"]),
                        text(&e["from"]["nickname"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn line(kind: &str, party: &str, nick: &str) -> (String, String, String) {
    (kind.into(), party.into(), nick.into())
}

#[tokio::test]
async fn a_rest_customer_sees_monitoring_as_a_flag_and_a_take_over_as_a_change_of_agent() -> R {
    let server = Server::start(CONFIG).await?;
    let alice = Agent::new(&server, "alice-token-1");
    let boss = Agent::new(&server, "boss-token-1");
    alice.ready().await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Joan")]).await?;
    let (s, v) = alice
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    let (s, _) = boss.req(Method::POST, "/login", None).await?;
    assert_eq!(s, 200);

    // Monitoring: the flag, and nothing in the transcript.
    let (s, v) = boss
        .post(&format!("/chats/{}/monitor", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    let v = refresh(&chat).await?;
    assert_eq!(v["monitored"], true, "{v}");
    let joined = [
        line("ParticipantJoined", "Client", "Joan"),
        line("ParticipantJoined", "Agent", "Alice"),
    ];
    assert_eq!(lines(&v), joined, "{v}");
    let (s, v) = boss
        .post(
            &format!("/chats/{}/messages", chat.chat_id),
            json!({"text": "psst"}),
        )
        .await?;
    assert_eq!((s, &v["error"]["code"]), (409, &json!("monitoring")), "{v}");
    let (s, v) = boss
        .post(&format!("/chats/{}/leave", chat.chat_id), json!({}))
        .await?;
    assert_eq!((s, &v), (200, &json!({"events": []})), "{v}");
    let v = refresh(&chat).await?;
    assert_eq!(v["monitored"], false, "{v}");
    assert_eq!(lines(&v), joined, "{v}");

    // Take-over: the customer sees the agents change; Alice's stream hears her leaving.
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url("alice-token-1")).await?;
    let (s, v) = boss
        .post(&format!("/chats/{}/monitor", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    let (s, v) = boss
        .post(&format!("/chats/{}/take-over", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    let v = refresh(&chat).await?;
    assert_eq!(v["monitored"], false, "the monitor left first: {v}");
    let mut all = joined.to_vec();
    all.push(line("ParticipantJoined", "Agent", "Boss"));
    all.push(line("ParticipantLeft", "Agent", "Alice"));
    assert_eq!(lines(&v), all, "{v}");
    let heard = loop {
        let frame = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await?
            .ok_or("the stream ended")??;
        if let Message::Text(t) = frame {
            let f: Value = serde_json::from_str(t.as_str())?;
            if f["type"] == "event" && f["event"]["kind"] == "ParticipantLeft" {
                break f;
            }
        }
    };
    assert_eq!(heard["chat_id"], chat.chat_id.as_str(), "{heard}");
    assert_eq!(heard["event"]["from"]["nickname"], "Alice", "{heard}");
    // The supervisor handles the chat now; the customer hears it.
    let (s, v) = boss
        .post(
            &format!("/chats/{}/messages", chat.chat_id),
            json!({"text": "I can help"}),
        )
        .await?;
    assert_eq!(s, 200, "{v}");
    let (_, me) = alice.req(Method::GET, "/me", None).await?;
    assert_eq!(me["chats"], json!([]), "{me}");
    let (_, o) = boss.req(Method::GET, "/supervisor", None).await?;
    assert_eq!(
        o["chats"][0]["agents"],
        json!([{"id": "boss", "name": "Boss"}]),
        "{o}"
    );
    Ok(())
}
