//! Two (then three) binaries on one Redis (a single server, and a three-primary cluster)
//! routing on one shared state: the agent logs in and goes ready through node A, the customer
//! asks for a chat through node B, and the agent's WebSocket on A gets the offer, once; the
//! agent accepts through B, and messages flow both ways whichever node each side uses. A node
//! started later takes the shared state as it is: it offers nothing again, and serves the
//! agent's status and calls as the others do.

use crate::common::*;
use crate::redis_feed::{Socket, feed_subscribed, next_of};
use chinwag_redis_testkit::{RedisCluster, RedisServer};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "demo-agent-token";

/// Frames of the agent's stream until (and with) the first `state` frame, within 20 s.
async fn until_state(ws: &mut Socket) -> R<Vec<Value>> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| format!("no state frame within 20 s: {seen:?}"))?
            .ok_or("stream closed")??;
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t)?;
            let done = v["type"] == "state";
            seen.push(v);
            if done {
                return Ok(seen);
            }
        }
    }
}

fn offers_of(frames: &[Value], chat: &str) -> usize {
    frames
        .iter()
        .filter(|f| f["type"] == "offer" && f["chat_id"] == chat)
        .count()
}

async fn status(agent: &Agent) -> R<Value> {
    let (s, v) = agent.req(Method::GET, "/me", None).await?;
    assert_eq!(s, 200, "{v}");
    Ok(v)
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().or_else(|| x["chat_id"].as_str()))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

async fn routing_is_shared(url: &str) -> R {
    let config = format!("[store]\nurl = \"{url}\"\n");
    let a = Server::start(&config).await?;
    let b = Server::start(&config).await?;
    feed_subscribed(&a).await?;
    feed_subscribed(&b).await?;
    let (on_a, on_b) = (Agent::new(&a, TOKEN), Agent::new(&b, TOKEN));

    // The agent's stream and its login on A; the customer on B.
    let (mut ws, _) = tokio_tungstenite::connect_async(a.ws_url(TOKEN)).await?;
    next_of(&mut ws, "status").await?;
    on_a.ready().await?;
    let (first, _) = request_chat(&b, &[("nickname", "Across")]).await?;
    let offer = next_of(&mut ws, "offer").await?;
    assert_eq!(offer["chat_id"], first.chat_id.as_str(), "{offer}");
    let me = status(&on_b).await?;
    assert_eq!(
        ids(&me["offers"]),
        [first.chat_id.as_str()],
        "B sees the offer: {me}"
    );

    // Accepted through B; the customer writes through B, the agent hears it on A.
    let (s, view) = on_b
        .post(&format!("/offers/{}/accept", first.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{view}");
    let (s, v) = first.call("send", &[("message", "hello from B")]).await?;
    assert_eq!(s, 200, "{v}");
    let heard = next_of(&mut ws, "event").await?;
    let heard = if heard["event"]["text"] == "hello from B" {
        heard
    } else {
        next_of(&mut ws, "event").await?
    };
    assert_eq!(heard["event"]["text"], "hello from B", "{heard}");

    // The agent answers through A and through B; the customer reads both through B.
    for (agent, text) in [(&on_a, "answer via A"), (&on_b, "answer via B")] {
        let (s, v) = agent
            .post(
                &format!("/chats/{}/messages", first.chat_id),
                json!({"text": text}),
            )
            .await?;
        assert_eq!(s, 200, "{v}");
    }
    let (_, read) = first
        .call("refresh", &[("transcriptPosition", "1")])
        .await?;
    let texts: Vec<&str> = read["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|e| e["text"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        texts,
        ["hello from B", "answer via A", "answer via B"],
        "{read}"
    );

    // A second chat, offered while the agent has room; then node C starts.
    let (second, _) = request_chat(&b, &[("nickname", "Second")]).await?;
    let c = Server::start(&config).await?;
    feed_subscribed(&c).await?;
    let on_c = Agent::new(&c, TOKEN);
    let me = status(&on_c).await?;
    assert_eq!(ids(&me["chats"]), [first.chat_id.as_str()], "C: {me}");
    assert_eq!(ids(&me["offers"]), [second.chat_id.as_str()], "C: {me}");
    // The agent calls C too (it is already ready: nothing changes), then goes not ready
    // through A: its stream has had each offer once before that state frame.
    let (s, v) = on_c
        .req(Method::PUT, "/state", Some(json!({"ready": true})))
        .await?;
    assert_eq!(s, 200, "{v}");
    let (s, v) = on_a
        .req(Method::PUT, "/state", Some(json!({"ready": false})))
        .await?;
    assert_eq!(s, 200, "{v}");
    let frames = until_state(&mut ws).await?;
    assert_eq!(offers_of(&frames, &second.chat_id), 1, "{frames:?}");
    assert_eq!(offers_of(&frames, &first.chat_id), 0, "{frames:?}");
    let (s, v) = on_c
        .post(&format!("/offers/{}/accept", second.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "accepted through C: {v}");
    let me = status(&on_a).await?;
    let mut want = vec![first.chat_id.clone(), second.chat_id.clone()];
    want.sort();
    assert_eq!(ids(&me["chats"]), want, "{me}");
    assert!(ids(&me["offers"]).is_empty(), "{me}");
    Ok(())
}

#[tokio::test]
async fn nodes_on_one_redis_route_on_one_state() -> R {
    let redis = RedisServer::start()?;
    routing_is_shared(&redis.url()).await
}

#[tokio::test]
async fn nodes_on_one_redis_cluster_route_on_one_state() -> R {
    let cluster = RedisCluster::start(3)?;
    routing_is_shared(&cluster.url()).await
}
