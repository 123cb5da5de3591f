//! Idle open chats leave memory and come back on demand (`server.idle_chat_eviction_secs`):
//! a REST customer silent past the idle time no longer counts in `/health`'s `cached_chats`
//! (still in `open_sessions`), and its next refresh reads the same transcript back from the
//! database; it goes on chatting. An agent accepts an evicted chat; a chat an agent is in stays.
//! After a restart no chat is held (the node opens from the stored headers) until it is used.

use crate::common::*;
use serde_json::{Value, json};
use std::time::Duration;

const CONFIG: &str = r#"
[server]
idle_chat_eviction_secs = 1
"#;

async fn health(server: &Server) -> R<Value> {
    Ok(client()
        .get(format!("{}/health", server.base))
        .send()
        .await?
        .json()
        .await?)
}

/// Waits (at most 20 s) until `/health` says `cached_chats` is `n`.
async fn cached(server: &Server, n: u64) -> R {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while health(server).await?["cached_chats"] != n {
        assert!(
            std::time::Instant::now() < deadline,
            "cached_chats never reached {n}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The texts of the transcript from position 1.
async fn transcript(chat: &Chat) -> R<Vec<Value>> {
    let (status, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(status, 200, "{v}");
    let messages = v["messages"].as_array().cloned().unwrap_or_default();
    Ok(messages
        .iter()
        .map(|m| json!([m["type"], m["text"], m["index"]]))
        .collect())
}

#[tokio::test]
async fn an_idle_rest_chat_leaves_memory_and_reads_back_the_same() -> R {
    let server = Server::start(CONFIG).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Idle")]).await?;
    let (s, _) = chat.call("send", &[("message", "hello")]).await?;
    assert_eq!(s, 200);
    let before = transcript(&chat).await?;
    assert_eq!(before.len(), 2, "{before:?}");
    cached(&server, 0).await?;
    assert_eq!(health(&server).await?["open_sessions"], 1, "still open");
    assert_eq!(transcript(&chat).await?, before, "read back whole");
    let (s, _) = chat.call("send", &[("message", "again")]).await?;
    assert_eq!(s, 200);
    cached(&server, 0).await?;
    let after = transcript(&chat).await?;
    assert_eq!(after.len(), 3, "{after:?}");
    assert_eq!(after[2][1], "again");
    // An agent accepts the evicted chat; with the agent in it, it stays in memory.
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let (s, v) = agent
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    // A chat created after the accept leaves memory while the agent's chat stays: one sweep
    // evicts every chat idle long enough, and the agent's was idle longer, so seeing one
    // chat held (not two, not none) shows the agent's chat was kept.
    let (_, other) = request_chat(&server, &[("nickname", "Other")]).await?;
    drop(other);
    cached(&server, 1).await?;
    let v = health(&server).await?;
    assert_eq!(v["open_sessions"], 2, "{v}");
    let (s, v) = agent
        .post(
            &format!("/chats/{}/messages", chat.chat_id),
            json!({"text": "hi from the agent"}),
        )
        .await?;
    assert_eq!(s, 200, "{v}");
    let last = transcript(&chat).await?;
    assert!(last.iter().any(|m| m[1] == "hi from the agent"), "{last:?}");
    Ok(())
}

#[tokio::test]
async fn after_a_restart_no_chat_is_held_until_it_is_used() -> R {
    let config = "[server]\nidle_chat_eviction_secs = 3600\n";
    let server = Server::start(config).await?;
    let (idle, _) = request_chat(&server, &[("nickname", "Idle")]).await?;
    idle.call("send", &[("message", "hello")]).await?;
    let (served, _) = request_chat(&server, &[("nickname", "Served")]).await?;
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let (s, v) = agent
        .post(&format!("/offers/{}/accept", served.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    let before = transcript(&idle).await?;
    let mut server = server;
    server.kill9()?;
    let server = server.restart().await?;
    let h = health(&server).await?;
    assert_eq!(
        (h["open_sessions"].clone(), h["cached_chats"].clone()),
        (json!(2), json!(0)),
        "{h}: opened from the headers"
    );
    assert_eq!(transcript(&idle).await?, before, "read back when asked for");
    assert_eq!(health(&server).await?["cached_chats"], 1);
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let (s, v) = agent
        .post(
            &format!("/chats/{}/messages", served.chat_id),
            json!({"text": "back"}),
        )
        .await?;
    assert_eq!(s, 200, "the agent's chat is still its own: {v}");
    assert_eq!(health(&server).await?["cached_chats"], 2);
    Ok(())
}
