//! Push decisions when a customer's requests reach other nodes: two binaries on one real
//! Redis, the real customhttp receiver. (a) With `to_active_client`, a customer whose
//! CometD session is owned by node A (every request of it goes to A) gets no push for the
//! agent's events committed through node B: B learns of the watch from the record A's
//! lifecycle pass keeps in the store. (b) A reliable push sent by B stops being resent once
//! the customer refreshed past it through A.

use crate::common::*;
use crate::push::{Receiver, health};
use crate::push_presence::{CHANNEL, Comet, skipped, until};
use chinwag_redis_testkit::RedisServer;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Longer than one lifecycle pass (every 5 s): what a node saw is in the store by then.
const PASS: Duration = Duration::from_secs(6);

fn config(redis: &str, receiver: &str, keys: &std::path::Path, active: bool) -> String {
    format!(
        "[store]\nurl = \"{redis}\"\n\n[cometd]\nkey_file = \"{}\"\ntimeout_ms = 1000\n\
         max_interval_ms = 1000\n\n[push]\nenabled = [\"customhttp\"]\non_join = true\n\
         include_payload = true\nto_active_client = {active}\npresence_grace_ms = 3000\n\
         resend_delay_secs = 2\nresend_attempts = 20\nretry_base_ms = 50\nretry_max_ms = 200\n\n\
         [push.customhttp]\nurl = \"{receiver}\"\n\n[[agents]]\nid = \"a1\"\nname = \"Alice\"\n\
         token = \"agent-token-1\"\ncapacity = 50\n",
        keys.display()
    )
}

/// `active`: `to_active_client` (no push to a customer watching over CometD).
async fn two_nodes(redis: &RedisServer, receiver: &str, active: bool) -> R<(Server, Server)> {
    let keys = tempfile::tempdir()?.keep().join("cometd.key");
    let cfg = config(&redis.url(), receiver, &keys, active);
    Ok((Server::start(&cfg).await?, Server::start(&cfg).await?))
}

/// The chat offered to `agent` (waits for the offer).
async fn offered(agent: &Agent) -> R<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, me) = agent.req(reqwest::Method::GET, "/me", None).await?;
        if let Some(id) = me["offers"][0]["chat_id"].as_str() {
            return Ok(id.to_owned());
        }
        if Instant::now() > deadline {
            return Err(format!("no offer: {me}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_customer_watching_through_another_node_gets_no_push() -> R {
    let redis = RedisServer::start()?;
    let (rx, receiver) = Receiver::start().await?;
    let (a, b) = two_nodes(&redis, &receiver, true).await?;
    // The agent works through B; the customer's CometD session lives on A.
    let agent = Agent::new(&b, "agent-token-1");
    agent.ready().await?;
    let comet = Comet::handshake(format!("{}/genesys/cometd", a.base)).await?;
    let connecting = comet.connect_forever();
    let user_data = json!({"push_notification_deviceid": "dev-w",
                           "push_notification_type": "customhttp"});
    comet
        .send(json!({"channel": CHANNEL,
                     "data": {"operation": "requestChat", "nickname": "Mo", "userData": user_data}}))
        .await?;
    // A's lifecycle pass records the watch in the store.
    tokio::time::sleep(PASS).await;
    let chat_id = offered(&agent).await?;
    let (s, v) = agent
        .post(&format!("/offers/{chat_id}/accept"), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    let (s, v) = agent
        .post(
            &format!("/chats/{chat_id}/messages"),
            json!({"text": "hello from B"}),
        )
        .await?;
    assert_eq!(s, 200, "{v}");
    until("the message over CometD", || {
        comet
            .texts()
            .contains(&"hello from B".to_owned())
            .then_some(())
    })
    .await?;
    // B decides both pushes (the agent's join and message) after the presence grace: the
    // customer watches through A, so both are skipped.
    let deadline = Instant::now() + Duration::from_secs(30);
    while skipped(&b).await? < 2 {
        assert!(
            Instant::now() < deadline,
            "B did not skip: pushed {:?}",
            rx.got().iter().map(|g| &g.body).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        rx.got().is_empty(),
        "no push while watched: {:?}",
        rx.got().len()
    );
    connecting.abort();
    Ok(())
}

/// `notify-attempt` of each reliable push delivered to `device`, in arrival order.
fn attempts(rx: &Receiver, device: &str) -> Vec<String> {
    rx.delivered(device)
        .iter()
        .map(|p| {
            p["message"]["messages"][0]["userData"]["notify-attempt"]
                .as_str()
                .unwrap_or("?")
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_refresh_through_another_node_stops_the_resends() -> R {
    let redis = RedisServer::start()?;
    let (rx, receiver) = Receiver::start().await?;
    // Without `to_active_client`: only the resend decision reads the store.
    let (a, b) = two_nodes(&redis, &receiver, false).await?;
    let chat = crate::push::subscribed(
        &b,
        "dev-r",
        &[
            ("userData[GCTI_GMS_PushResend]", "true"),
            ("userData[GCTI_GMS_NotifyRequestor]", "true"),
        ],
    )
    .await?;
    let (s, v) = chat.call("send", &[("message", "are you there")]).await?;
    assert_eq!(s, 200, "{v}");
    // B pushes the join and the message, and resends the message (every 2 s) while
    // unacknowledged.
    rx.wait_for("dev-r", 3).await?;
    assert_eq!(attempts(&rx, "dev-r")[..3], ["0", "0", "1"]);
    // The customer refreshes through A only.
    let via_a = Chat {
        url: a.gms("customer-support"),
        ..chat.clone()
    };
    let (s, v) = via_a.call("refresh", &[]).await?;
    assert_eq!(s, 200, "{v}");
    // A's pass records the fetch; B's next resend decision reads it.
    tokio::time::sleep(PASS + Duration::from_secs(3)).await;
    let sent = rx.delivered("dev-r").len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        rx.delivered("dev-r").len(),
        sent,
        "resent after the refresh through A: {:?}",
        attempts(&rx, "dev-r")
    );
    let (_, h): (u16, Value) = health(&b).await?;
    assert!(h["push"]["acknowledged"].as_u64() >= Some(1), "{h}");
    Ok(())
}
