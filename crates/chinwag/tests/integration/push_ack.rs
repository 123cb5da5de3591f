//! Reliable push acknowledged by a "ping": a refresh without `transcriptPosition` (seed 003:
//! the notification-receiver app pings to acknowledge, which stops the resends).

use crate::common::*;
use crate::push::{Receiver, accept, agent_says, config, subscribed};
use std::time::Duration;

#[tokio::test]
async fn a_ping_refresh_without_a_position_stops_the_resends() -> R {
    let (rx, url) = Receiver::start().await?;
    let server = Server::start(&config(&url, "")).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    let chat = subscribed(
        &server,
        "dev-ping",
        &[("userData[GCTI_GMS_PushResend]", "true")],
    )
    .await?;
    accept(&agent, &chat).await?;
    // The join is pushed; without an acknowledgement it would be resent after 1 s, twice.
    rx.wait_for("dev-ping", 1).await?;
    let (s, v) = chat.call("refresh", &[]).await?;
    assert_eq!(s, 200, "{v}");
    assert!(v["messages"].as_array().is_some_and(Vec::is_empty), "{v}");
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        rx.delivered("dev-ping").len(),
        1,
        "the ping acknowledged the push: no resend"
    );
    // The same wait without a ping does resend (so the test above can fail).
    agent_says(&agent, &chat, "unacknowledged").await?;
    let got = rx.wait_for("dev-ping", 3).await?;
    let attempt = &got[2]["message"]["messages"][0]["userData"]["notify-attempt"];
    assert_eq!(attempt, "1", "a resend of the unacknowledged push");
    Ok(())
}
