//! Ended chats survive a restart (defect 7: a chat ended before a kill -9 answered 404
//! afterwards). Chats ended by the customer, by the agent, and by the system (waited too
//! long for an agent) answer refresh with `chatEnded: true` and the same transcript after
//! SIGKILL and a restart, while within `ended_retention_secs` (also with
//! `chat_400_response_on_disconnected`, as HTTP 400); other operations on them stay 404
//! with `chatEnded`; they count as neither open nor assigned. Past the retention they are
//! gone (404).

use crate::adv_net::gms_code;
use crate::common::*;
use serde_json::{Value, json};
use std::time::Duration;

const CONFIG: &str = r#"
[services.customer-support]
queue = "default"
[services.strict]
queue = "slow"
chat_400_response_on_disconnected = true
[queues.default]
[queues.slow]
max_wait_secs = 1
"#;

/// The whole refresh answer of `chat`: (status, body).
async fn refresh(chat: &Chat) -> R<(u16, Value)> {
    chat.call("refresh", &[("transcriptPosition", "1")]).await
}

async fn health(server: &Server) -> R<Value> {
    Ok(client()
        .get(format!("{}/health", server.base))
        .send()
        .await?
        .json()
        .await?)
}

/// Waits (at most 20 s) until `chat` has ended.
async fn ended(chat: &Chat) -> R {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while refresh(chat).await?.1["chatEnded"] != true {
        assert!(std::time::Instant::now() < deadline, "the chat never ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

#[tokio::test]
async fn chats_ended_every_way_read_back_ended_after_kill_9() -> R {
    let server = Server::start(CONFIG).await?;
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    // Ended by the customer.
    let (by_customer, _) = request_chat(&server, &[("nickname", "Leaver")]).await?;
    by_customer.call("send", &[("message", "bye")]).await?;
    agent
        .post(
            &format!("/offers/{}/accept", by_customer.chat_id),
            json!({}),
        )
        .await?;
    let (s, _) = by_customer.call("disconnect", &[]).await?;
    assert_eq!(s, 200);
    // Ended by the agent.
    let (by_agent, _) = request_chat(&server, &[("nickname", "Ended")]).await?;
    agent
        .post(&format!("/offers/{}/accept", by_agent.chat_id), json!({}))
        .await?;
    agent
        .post(
            &format!("/chats/{}/messages", by_agent.chat_id),
            json!({"text": "done"}),
        )
        .await?;
    let (s, _) = agent
        .post(&format!("/chats/{}/end", by_agent.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200);
    // Ended by the system: nobody serves the queue "slow" within its max wait.
    let (s, v) = post_form(
        &format!("{}/", server.gms("strict")),
        &[("nickname", "Waiter")],
    )
    .await?;
    assert_eq!(s, 200, "{v}");
    let str_of = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let by_system = Chat {
        url: server.gms("strict"),
        chat_id: str_of("chatId"),
        user_id: str_of("userId"),
        secure_key: str_of("secureKey"),
    };
    ended(&by_system).await?;

    let mut before = Vec::new();
    for chat in [&by_customer, &by_agent, &by_system] {
        before.push(refresh(chat).await?);
    }
    assert_eq!(before[2].0, 400, "chat_400_response_on_disconnected");
    let server = server.restart().await?;
    for (chat, was) in [&by_customer, &by_agent, &by_system].iter().zip(&before) {
        let now = refresh(chat).await?;
        assert_eq!(&now, was, "{}", chat.chat_id);
        assert_eq!(now.1["chatEnded"], true);
        let (s, v) = chat.call("send", &[("message", "late")]).await?;
        assert_eq!(
            (s, gms_code(&v)?, &v["chatEnded"]),
            (400, 404, &json!(true))
        );
    }
    let h = health(&server).await?;
    assert_eq!(h["open_sessions"], 0, "{h}");
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let (_, me) = agent.req(reqwest::Method::GET, "/me", None).await?;
    assert_eq!(
        (&me["chats"], &me["offers"]),
        (&json!([]), &json!([])),
        "{me}"
    );
    Ok(())
}

#[tokio::test]
async fn an_ended_chat_past_its_retention_is_gone_after_a_restart() -> R {
    let server = Server::start("[server]\nended_retention_secs = 1\n").await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Old")]).await?;
    chat.call("disconnect", &[]).await?;
    assert_eq!(refresh(&chat).await?.1["chatEnded"], true);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let _server = server.restart().await?;
    let (s, v) = refresh(&chat).await?;
    assert_eq!((s, gms_code(&v)?), (400, 404), "{v}");
    Ok(())
}
