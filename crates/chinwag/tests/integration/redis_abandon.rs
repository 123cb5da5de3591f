//! Abandonment across nodes, with two binaries on one real Redis: chats created on node A,
//! A killed with `kill -9` at once; node B's timers worker fires A's abandon timers. The
//! chat whose customer went silent is ended by B (its customer then reads the "inactive"
//! notice and its own `ParticipantLeft`, once), while the chat whose customer keeps
//! polling through B stays open. The end is watched in Redis, not by polling the chat
//! (which would be the customer's activity).

use crate::common::*;
use chinwag_redis_testkit::RedisServer;
use serde_json::{Value, json};
use std::time::Duration;

const ABANDONED: &str = "The chat was closed because the customer was inactive.";

fn config(redis: &str) -> String {
    format!(
        "[store]\nurl = \"{redis}\"\n\n\
         [services.customer-support.limits]\nabandon_after_secs = 3\n"
    )
}

/// Whether `chat`'s stored header says it ended (read in Redis: no customer activity).
fn ended_in_redis(redis: &RedisServer, chat: &str) -> R<bool> {
    let script = "local k = redis.call('KEYS', ARGV[1])[1] \
                  if not k then return '' end \
                  return redis.call('HGET', k, 'rec') or ''";
    let pattern = format!("chinwag:*:h:{chat}");
    let rec = redis.command(&["EVAL", script, "0", &pattern])?;
    let v: Value = serde_json::from_str(&rec).map_err(|e| format!("{e}: {rec:?}"))?;
    Ok(!v["ended_ms"].is_null())
}

#[tokio::test]
async fn a_killed_nodes_silent_chat_is_ended_by_the_other_node() -> R {
    let redis = RedisServer::start()?;
    let cfg = config(&redis.url());
    let mut a = Server::start(&cfg).await?;
    let b = Server::start(&cfg).await?;
    let (silent, _) = request_chat(&a, &[("nickname", "Silent")]).await?;
    let (polled, _) = request_chat(&a, &[("nickname", "Polled")]).await?;
    a.kill9()?;
    let via_b = |c: &Chat| Chat {
        url: b.gms("customer-support"),
        ..c.clone()
    };
    let (silent_b, polled_b) = (via_b(&silent), via_b(&polled));
    let poller = {
        let chat = polled_b.clone();
        tokio::spawn(async move {
            let http = client();
            loop {
                let _ = chat.call_on(&http, "refresh", &[]).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !ended_in_redis(&redis, &silent.chat_id)? {
        assert!(
            tokio::time::Instant::now() < deadline,
            "B did not end A's silent chat within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (s, v) = silent_b
        .call("refresh", &[("transcriptPosition", "1")])
        .await?;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["chatEnded"], true, "{v}");
    let msgs = v["messages"].as_array().ok_or("no messages")?;
    let notices: Vec<&Value> = msgs.iter().filter(|m| m["type"] == "Notice").collect();
    assert_eq!(notices.len(), 1, "ended once: {msgs:?}");
    assert_eq!(notices[0]["text"], json!(ABANDONED));
    let last = msgs.last().ok_or("empty transcript")?;
    assert_eq!(
        (&last["type"], &last["from"]["type"]),
        (&json!("ParticipantLeft"), &json!("Client")),
        "{msgs:?}"
    );
    // Well past the limit, the chat polled through B is still open.
    tokio::time::sleep(Duration::from_secs(2)).await;
    poller.abort();
    let (s, v) = polled_b.call("refresh", &[]).await?;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["chatEnded"], false, "polled through B: {v}");
    Ok(())
}
