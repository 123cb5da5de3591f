//! Two binaries on one Redis (a single server, and a three-primary cluster): a chat created
//! on node A, accepted by an agent logged in on A, written by its customer through node B.
//! The agent's WebSocket on A and a CometD watcher (long-polling) on A get each of B's
//! messages exactly once, in order: B's commits reach A through the store's change feed.

use crate::adv_cometd::{CHANNEL, Lp, assert_every_index_once, cometd_url, events, until};
use crate::common::*;
use chinwag_redis_testkit::{RedisCluster, RedisServer};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "demo-agent-token";
/// Messages the customer sends through node B.
const SENT: usize = 5;
/// The last message, after which nothing more is expected.
const FENCE: &str = "fence";

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next frame of type `wanted` (others skipped), within 20 s.
async fn next_of(ws: &mut Socket, wanted: &str) -> R<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| format!("no {wanted} frame within 20 s"))?
            .ok_or("stream closed")??;
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t)?;
            if v["type"] == wanted {
                return Ok(v);
            }
        }
    }
}

/// Every transcript event of `chat` the agent's stream carries, until the fence message.
async fn agent_events_until_fence(ws: &mut Socket, chat: &str) -> R<Vec<Value>> {
    let mut seen = Vec::new();
    loop {
        let v = next_of(ws, "event").await?;
        if v["chat_id"] != chat {
            continue;
        }
        let fence = v["event"]["text"] == FENCE;
        seen.push(v["event"].clone());
        if fence {
            return Ok(seen);
        }
    }
}

/// Waits until `/health` of `server` reports its feed subscribed, with the `redis-feed` and
/// `catch-up` workers running.
async fn feed_subscribed(server: &Server) -> R {
    let url = format!("{}/health", server.base);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let h: Value = client().get(&url).send().await?.json().await?;
        let running = |name: &str| {
            h["workers"].as_array().is_some_and(|ws| {
                ws.iter()
                    .any(|w| w["name"] == name && w["state"] == "running")
            })
        };
        if h["feed"]["subscribed"] == true && running("redis-feed") && running("catch-up") {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("the feed never reported subscribed: {h}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn texts(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["kind"] == "Message" || e["type"] == "Message")
        .filter_map(|e| e["text"].as_str().map(str::to_owned))
        .collect()
}

fn want() -> Vec<String> {
    (0..SENT)
        .map(|i| format!("via b {i}"))
        .chain([FENCE.to_owned()])
        .collect()
}

async fn events_reach_the_other_node(url: &str) -> R {
    let config = format!("[store]\nurl = \"{url}\"\n");
    let a = Server::start(&config).await?;
    let b = Server::start(&config).await?;
    feed_subscribed(&a).await?;

    // The agent on A: its event stream, then ready; the chat, created on A, is offered and
    // accepted there.
    let agent = Agent::new(&a, TOKEN);
    let (mut ws, _) = tokio_tungstenite::connect_async(a.ws_url(TOKEN)).await?;
    next_of(&mut ws, "status").await?;
    let (on_a, _) = request_chat(&a, &[("nickname", "Across")]).await?;
    agent.ready().await?;
    let offer = next_of(&mut ws, "offer").await?;
    assert_eq!(offer["chat_id"], on_a.chat_id.as_str(), "{offer}");
    let (s, view) = agent
        .post(&format!("/offers/{}/accept", on_a.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{view}");

    // A CometD watcher on A, from the start of the transcript.
    let lp = Lp::start(&cometd_url(&a), Vec::new()).await?;
    let polling = lp.connect_forever();
    let watch = json!({"operation": "requestNotifications", "secureKey": on_a.secure_key,
                       "chatId": on_a.chat_id, "transcriptPosition": 1});
    let r = lp.publish(CHANNEL, watch).await?;
    assert_eq!(r["successful"], true, "{r}");

    // The customer writes through B only.
    let on_b = Chat {
        url: b.gms("customer-support"),
        ..on_a.clone()
    };
    for text in want() {
        let (s, v) = on_b.call("send", &[("message", &text)]).await?;
        assert_eq!(s, 200, "{v}");
    }

    // The agent on A: each message once, in order, and every event's index once, rising.
    let seen = agent_events_until_fence(&mut ws, &on_a.chat_id).await?;
    assert_eq!(texts(&seen), want(), "{seen:?}");
    let idx: Vec<u64> = seen.iter().filter_map(|e| e["index"].as_u64()).collect();
    assert!(idx.windows(2).all(|w| w[0] < w[1]), "{idx:?}");

    // The watcher on A: the whole transcript, every index once, in order.
    let (_, last) = on_b
        .call("refresh", &[("transcriptPosition", "-1")])
        .await?;
    let last = last["messages"][0]["index"]
        .as_u64()
        .ok_or("no last index")?;
    until("the fence over CometD", 20, || {
        texts(&events(&lp.notes()))
            .contains(&FENCE.to_owned())
            .then_some(())
    })
    .await?;
    // A watch delivers in bus order, and a node publishes each caught-up event once, in
    // index order: anything repeated would have come before the fence.
    polling.abort();
    let notes = lp.notes();
    let got: Vec<u64> = events(&notes)
        .iter()
        .filter_map(|e| e["index"].as_u64())
        .collect();
    assert_every_index_once(&got, 1, last);
    assert_eq!(texts(&events(&notes)), want());
    Ok(())
}

#[tokio::test]
async fn events_written_on_one_node_reach_watchers_on_another_single_redis() -> R {
    let redis = RedisServer::start()?;
    events_reach_the_other_node(&redis.url()).await
}

#[tokio::test]
async fn events_written_on_one_node_reach_watchers_on_another_redis_cluster() -> R {
    let cluster = RedisCluster::start(3)?;
    events_reach_the_other_node(&cluster.url()).await
}
