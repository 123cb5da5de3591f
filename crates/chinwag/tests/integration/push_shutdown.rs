//! The shutdown notice (`shutdown_notify`) over SIGTERM of the real binary, to a real local
//! customhttp receiver: its body follows the session's form (only `deviceId` for a session
//! without payload), and a notice the receiver refuses is retried within the drain window.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::push::{Receiver, accept, config, subscribed};
use serde_json::{Value, json};

const PAYLOAD: (&str, &str) = ("userData[GCTI_GMS_PushIncludePayload]", "true");
const RELIABLE: (&str, &str) = ("userData[GCTI_GMS_PushResend]", "true");

/// Whether `body` is the shutdown notice in the payload form.
fn is_notice(body: &Value) -> bool {
    let e = &body["message"]["messages"][0];
    e["type"] == "ParticipantLeft" && e["userData"]["quit-reason-advice"] == "reconnect"
}

/// A server with `shutdown_notify`, one accepted chat per `(device, extra userData)`, each
/// chat's first push (the agent's join) delivered.
async fn chats_with_first_push(
    rx: &Receiver,
    url: &str,
    devices: &[(&str, &[(&str, &str)])],
) -> R<Server> {
    let server = Server::start(&config(url, "shutdown_notify = true")).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    for (device, extra) in devices {
        let chat = subscribed(&server, device, extra).await?;
        accept(&agent, &chat).await?;
        rx.wait_for(device, 1).await?;
    }
    Ok(server)
}

#[tokio::test]
async fn the_shutdown_notice_to_a_session_without_payload_is_the_device_id_only() -> R {
    let (rx, url) = Receiver::start().await?;
    let devices: [(&str, &[(&str, &str)]); 3] = [
        ("dev-bare", &[]),
        ("dev-pay", &[PAYLOAD]),
        ("dev-rel", &[RELIABLE]),
    ];
    let mut server = chats_with_first_push(&rx, &url, &devices).await?;
    server.terminate().await?;
    let bare = rx.delivered("dev-bare");
    assert_eq!(bare.len(), 2, "the join and the notice: {bare:?}");
    for b in &bare {
        assert_eq!(
            *b,
            json!({"deviceId": "dev-bare"}),
            "no payload, no content"
        );
    }
    // Sessions with a payload (include_payload, or reliable) get the notice's message.
    for device in ["dev-pay", "dev-rel"] {
        let notices: Vec<Value> = rx.delivered(device).into_iter().filter(is_notice).collect();
        assert_eq!(notices.len(), 1, "{device}: {:?}", rx.delivered(device));
        let e = &notices[0]["message"]["messages"][0];
        assert_eq!(
            e["from"],
            json!({"nickname": "Pat", "participantId": 1, "type": "Client"})
        );
        assert_eq!(notices[0]["message"]["chatEnded"], false);
    }
    Ok(())
}

#[tokio::test]
async fn a_refused_shutdown_notice_is_retried_within_the_drain_window() -> R {
    let (rx, url) = Receiver::start().await?;
    let devices: [(&str, &[(&str, &str)]); 2] = [("dev-s", &[PAYLOAD]), ("dev-t", &[])];
    let mut server = chats_with_first_push(&rx, &url, &devices).await?;
    // The receiver answers 503 to the first attempt of each notice.
    rx.fail_next("dev-s", 1);
    rx.fail_next("dev-t", 1);
    server.terminate().await?;
    let refused = |device: &str| {
        rx.got()
            .iter()
            .filter(|g| !g.ok && g.body["deviceId"] == device)
            .count()
    };
    assert_eq!(
        (refused("dev-s"), refused("dev-t")),
        (1, 1),
        "each notice failed once"
    );
    let s = rx.delivered("dev-s");
    assert_eq!(
        s.len(),
        2,
        "the join, then the notice after its retry: {s:?}"
    );
    assert!(is_notice(&s[1]), "{}", s[1]);
    let t = rx.delivered("dev-t");
    assert_eq!(
        t.len(),
        2,
        "the join, then the notice after its retry: {t:?}"
    );
    Ok(())
}
