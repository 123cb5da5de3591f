//! Inactivity control end to end over CometD (long-polling, real sockets, the real binary):
//! with short timeouts, a customer who only keeps its `/meta/connect` going gets, as
//! notifications on `/service/chatV2/customer-support` and in this order, the first alert,
//! the second, then `IdleClose` with its own `ParticipantLeft` and `chatEnded`, each with the
//! configured text and each alert announcing the next step in `userData`. Widgets' "wake"
//! (`customNotice` with `{"purpose":"cancel-idle-timer"}`) published over CometD restarts the
//! clock: no alert comes while the customer keeps waking it, and the first one comes a full
//! `timeout_alert` after the last wake.

use crate::adv_cometd::{CHANNEL, Lp, cometd_url, events, until};
use crate::common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "demo-agent-token";

fn config(alert_secs: u64) -> String {
    format!(
        "[services.customer-support.limits]\nabandon_after_secs = 0\n\
         [services.customer-support.inactivity_control]\nenabled = true\n\
         timeout_alert_secs = {alert_secs}\ntimeout_alert2_secs = 1\ntimeout_close_secs = 1\n\
         message_alert = \"first warning\"\nmessage_alert2 = \"last warning\"\n\
         message_close = \"closed for silence\"\n"
    )
}

/// A customer on CometD whose chat the agent accepted: (client, its connect loop, the
/// CometD secure key).
pub(crate) async fn staffed(
    server: &Server,
    agent: &Agent,
) -> R<(Arc<Lp>, tokio::task::JoinHandle<()>, String)> {
    let lp = Lp::start(&cometd_url(server), Vec::new()).await?;
    let task = lp.connect_forever();
    let r = lp
        .publish(
            CHANNEL,
            json!({"operation": "requestChat", "nickname": "Quiet"}),
        )
        .await?;
    assert_eq!(r["successful"], true, "{r}");
    let key = until("the requestChat answer", 20, || {
        lp.notes()
            .iter()
            .find_map(|n| n["secureKey"].as_str().map(str::to_owned))
    })
    .await?;
    let mut chat_id = None;
    for _ in 0..400 {
        let (_, me) = agent.req(reqwest::Method::GET, "/me", None).await?;
        chat_id = me["offers"][0]["chat_id"].as_str().map(str::to_owned);
        if chat_id.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let chat_id = chat_id.ok_or("no offer")?;
    let (s, v) = agent
        .post(&format!("/offers/{chat_id}/accept"), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    Ok((lp, task, key))
}

/// (type, text, from.type, userData) of an event.
fn shape(e: &Value) -> (Value, Value, Value, Value) {
    (
        e["type"].clone(),
        e["text"].clone(),
        e["from"]["type"].clone(),
        e["userData"].clone(),
    )
}

fn announces(kind: &str, secs: &str) -> Value {
    json!({"next-idle-timer-type": kind, "next-idle-timer-secs": secs})
}

#[tokio::test]
async fn alerts_then_the_close_arrive_in_order_as_cometd_notifications() -> R {
    let server = Server::start(&config(1)).await?;
    let agent = Agent::new(&server, TOKEN);
    agent.ready().await?;
    let (lp, task, _key) = staffed(&server, &agent).await?;
    until("chatEnded over CometD", 60, || {
        lp.notes()
            .iter()
            .any(|n| n["chatEnded"] == true)
            .then_some(())
    })
    .await?;
    task.abort();
    let notes = lp.notes();
    let tail: Vec<_> = events(&notes)
        .iter()
        .filter(|e| e["type"] != "ParticipantJoined")
        .map(shape)
        .collect();
    let system = json!("External");
    assert_eq!(
        tail,
        [
            (
                json!("IdleAlert"),
                json!("first warning"),
                system.clone(),
                announces("ALERT", "1")
            ),
            (
                json!("IdleAlert"),
                json!("last warning"),
                system.clone(),
                announces("CLOSE", "1")
            ),
            (
                json!("IdleClose"),
                json!("closed for silence"),
                system,
                Value::Null
            ),
            (
                json!("ParticipantLeft"),
                Value::Null,
                json!("Client"),
                Value::Null
            ),
        ],
        "{notes:?}"
    );
    // Only the notification that carries the customer's departure says the chat ended.
    let ended: Vec<bool> = notes
        .iter()
        .filter(|n| n["messages"].as_array().is_some_and(|m| !m.is_empty()))
        .map(|n| n["chatEnded"] == true)
        .collect();
    assert_eq!(ended.last(), Some(&true), "{notes:?}");
    assert_eq!(ended.iter().filter(|e| **e).count(), 1, "{notes:?}");
    Ok(())
}

#[tokio::test]
async fn a_wake_published_over_cometd_restarts_the_clock() -> R {
    const ALERT_MS: i64 = 3000;
    let server = Server::start(&config(3)).await?;
    let agent = Agent::new(&server, TOKEN);
    agent.ready().await?;
    let (lp, task, key) = staffed(&server, &agent).await?;
    // Wake every half second for twice the alert timeout: without the resets the first alert
    // would fall due in the middle of this.
    let wake = json!({"operation": "customNotice", "secureKey": key,
                      "eventAttributes": {"purpose": "cancel-idle-timer"}});
    for _ in 0..12 {
        let r = lp.publish(CHANNEL, wake.clone()).await?;
        assert_eq!(r["successful"], true, "{r}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    until("the first alert", 60, || {
        events(&lp.notes())
            .iter()
            .any(|e| e["type"] == "IdleAlert")
            .then_some(())
    })
    .await?;
    task.abort();
    let all = events(&lp.notes());
    let at = |e: &Value| e["utcTime"].as_i64().unwrap_or_default();
    let wakes: Vec<&Value> = all.iter().filter(|e| e["type"] == "CustomNotice").collect();
    assert_eq!(wakes.len(), 12, "every wake in the transcript: {all:?}");
    let first_alert = all
        .iter()
        .position(|e| e["type"] == "IdleAlert")
        .ok_or("no alert")?;
    let last_wake = all
        .iter()
        .rposition(|e| e["type"] == "CustomNotice")
        .ok_or("no wake")?;
    assert!(
        first_alert > last_wake,
        "an alert came while the customer kept waking the chat: {all:?}"
    );
    assert!(
        at(&all[first_alert]) - at(&all[last_wake]) >= ALERT_MS,
        "the alert is a whole timeout after the last wake: {all:?}"
    );
    Ok(())
}
