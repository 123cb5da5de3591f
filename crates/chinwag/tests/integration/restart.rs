//! Durability: kill -9 in the middle of a chat, restart on the same data, continue.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn a_chat_survives_kill_9_with_no_event_lost_or_duplicated() -> R {
    let server = Server::start("").await?;
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Durable")]).await?;
    let (waiting, _) = request_chat(&server, &[("nickname", "Waiting")]).await?;
    agent
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    for i in 0..5 {
        let (s, _) = chat.call("send", &[("message", &format!("c{i}"))]).await?;
        assert_eq!(s, 200);
        let (s, _) = agent
            .post(
                &format!("/chats/{}/messages", chat.chat_id),
                json!({"text": format!("a{i}")}),
            )
            .await?;
        assert_eq!(s, 200);
    }
    waiting.call("send", &[("message", "still here")]).await?;
    let (_, before) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    let before_msgs = before["messages"].clone();
    assert_eq!(before_msgs.as_array().map(Vec::len), Some(12));

    let server = server.restart().await?;
    let (s, after) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(s, 200, "{after}");
    assert_eq!(
        after["messages"], before_msgs,
        "the same events, same indexes, nothing lost or duplicated"
    );
    let (_, tail) = chat
        .call("refresh", &[("transcriptPosition", "12")])
        .await?;
    assert_eq!(tail["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(tail["nextPosition"], 13);

    // The agent sees its chat again, and the waiting chat is offered again.
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let (_, me) = agent.req(reqwest::Method::GET, "/me", None).await?;
    assert_eq!(me["chats"], json!([chat.chat_id]));
    assert_eq!(me["offers"][0]["chat_id"], waiting.chat_id.as_str());
    let (s, _) = agent
        .post(
            &format!("/chats/{}/messages", chat.chat_id),
            json!({"text": "back"}),
        )
        .await?;
    assert_eq!(s, 200);
    let (_, v) = chat
        .call(
            "send",
            &[("message", "me too"), ("transcriptPosition", "13")],
        )
        .await?;
    let idx: Vec<u64> = v["messages"]
        .as_array()
        .ok_or("no messages")?
        .iter()
        .filter_map(|m| m["index"].as_u64())
        .collect();
    assert_eq!(idx, [13, 14]);
    let (_, w) = waiting
        .call("refresh", &[("transcriptPosition", "1")])
        .await?;
    assert_eq!(w["messages"][1]["text"], "still here");
    Ok(())
}
