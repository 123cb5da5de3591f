//! Inactivity control as push notifications, the real binary delivering to a real local
//! customhttp receiver and to the local fake FCM (fakes.rs): with short timeouts, a
//! subscribed customer's silence is pushed as the first alert, the second, then
//! `IdleClose`, in order. The customhttp body (the GMS form: `deviceId` and the CometD
//! notification, which has no title) carries each event with its text and the alerts'
//! `userData`; the FCM notification carries seed 001's titles and bodies ("Chat will close
//! soon" / "Please use app if you want to continue", "Chat is over" / "Your chat session was
//! ended due to inactivity").

use crate::common::*;
use crate::fakes::{Fake, Hit};
use crate::push::{Receiver, accept};
use crate::push_mobile::{fcm_data, fcm_note, service_account};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const IDLE: &str = "[services.customer-support.limits]\nabandon_after_secs = 0\n\
    [services.customer-support.inactivity_control]\nenabled = true\n\
    timeout_alert_secs = 1\ntimeout_alert2_secs = 1\ntimeout_close_secs = 1\n\
    message_alert = \"first warning\"\nmessage_alert2 = \"last warning\"\n\
    message_close = \"closed for silence\"\n";

async fn subscribed(server: &Server, kind: &str, device: &str) -> R<Chat> {
    let pairs = [
        ("nickname", "Pat"),
        ("userData[GCTI_Chat_PushSubscribe]", "true"),
        ("userData[GCTI_GMS_PushDeviceId]", device),
        ("userData[GCTI_GMS_PushDeviceType]", kind),
        ("userData[GCTI_GMS_PushIncludePayload]", "true"),
    ];
    Ok(request_chat(server, &pairs).await?.0)
}

/// FCM hits for `device` once `done` holds for them (at most 60 s).
async fn fcm_until(fake: &Fake, device: &str, done: impl Fn(&[Hit]) -> bool) -> R<Vec<Hit>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let hits: Vec<Hit> = fake
            .hits_for(device)
            .into_iter()
            .filter(|h| h.status == 200)
            .collect();
        if done(&hits) {
            return Ok(hits);
        }
        if Instant::now() > deadline {
            let seen: Vec<_> = hits.iter().map(|h| h.body.clone()).collect();
            return Err(format!("{device}: {seen:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn event_of_fcm(h: &Hit) -> Value {
    fcm_data(h).get("event").cloned().unwrap_or(Value::Null)
}

#[tokio::test]
async fn alerts_and_close_are_pushed_in_order_with_the_seed_titles() -> R {
    let (rx, url) = Receiver::start().await?;
    let dir = tempfile::tempdir()?;
    let (fake, base) = Fake::fcm().await?;
    let (key_file, public, email) = service_account(dir.path(), "main", "proj-main", &base)?;
    fake.add_account(&email, public);
    let cfg = format!(
        "[push]\nenabled = [\"customhttp\", \"fcm\"]\non_join = true\n\
         retry_base_ms = 50\nretry_max_ms = 200\n\
         [push.customhttp]\nurl = \"{url}\"\n\
         [push.fcm]\nservice_account_file = \"{key_file}\"\napi_url = \"{base}\"\n{IDLE}"
    );
    let server = Server::start(&cfg).await?;
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let http_chat = subscribed(&server, "customhttp", "dev-http").await?;
    let fcm_chat = subscribed(&server, "fcm", "dev-fcm").await?;
    accept(&agent, &http_chat).await?;
    accept(&agent, &fcm_chat).await?;

    // customhttp: the events themselves, in order.
    let closed = |d: &[Value]| {
        d.iter()
            .any(|p| p["message"]["messages"][0]["type"] == "IdleClose")
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let pushed = loop {
        let d = rx.delivered("dev-http");
        if closed(&d) {
            break d;
        }
        assert!(Instant::now() < deadline, "no IdleClose pushed: {d:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let idle: Vec<(Value, Value, Value)> = pushed
        .iter()
        .map(|p| &p["message"]["messages"][0])
        .filter(|e| e["type"].as_str().is_some_and(|t| t.starts_with("Idle")))
        .map(|e| (e["type"].clone(), e["text"].clone(), e["userData"].clone()))
        .collect();
    let announces = |kind: &str| json!({"next-idle-timer-type": kind, "next-idle-timer-secs": "1"});
    assert_eq!(
        idle,
        [
            (
                json!("IdleAlert"),
                json!("first warning"),
                announces("ALERT")
            ),
            (
                json!("IdleAlert"),
                json!("last warning"),
                announces("CLOSE")
            ),
            (json!("IdleClose"), json!("closed for silence"), Value::Null),
        ],
        "{pushed:?}"
    );

    // FCM: seed 001's titles and bodies.
    let hits = fcm_until(&fake, "dev-fcm", |h| {
        h.iter().any(|h| event_of_fcm(h) == "IdleClose")
    })
    .await?;
    let notes: Vec<(Value, (String, String))> = hits
        .iter()
        .filter(|h| {
            event_of_fcm(h)
                .as_str()
                .is_some_and(|t| t.starts_with("Idle"))
        })
        .map(|h| (event_of_fcm(h), fcm_note(h)))
        .collect();
    let alert = (
        "Chat will close soon".to_owned(),
        "Please use app if you want to continue".to_owned(),
    );
    let over = (
        "Chat is over".to_owned(),
        "Your chat session was ended due to inactivity".to_owned(),
    );
    assert_eq!(
        notes,
        [
            (json!("IdleAlert"), alert.clone()),
            (json!("IdleAlert"), alert),
            (json!("IdleClose"), over),
        ]
    );
    Ok(())
}
