//! The GMS `refresh` as the REST adapter maps it onto the customer role: without `message` a
//! plain read (nothing reaches the agents), with it a read that shows the agents what the
//! customer is typing (a typing preview on the bus, nothing added to the transcript); and a
//! read receipt of no event answered in GMS words.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, header};
use chinwag_core::ChatEngine;
use chinwag_core::bus::BusEvent;
use chinwag_core::ids::{NodeAlias, QueueName, ServiceName};
use chinwag_core::memstore::MemoryStore;
use chinwag_core::ports::SystemClock;
use chinwag_core::settings::{EngineSettings, QueueSettings, ServiceLimits, ServiceSettings};
use chinwag_gms_rest::access::ServiceAccess;
use chinwag_gms_rest::{GmsState, router};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

async fn app() -> (axum::Router, Arc<ChatEngine>) {
    let settings = EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 3,
            max_message_length: 40,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits: ServiceLimits::default(),
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: Vec::new(),
        ended_retention_ms: 60_000,
        push: Default::default(),
        desk: Default::default(),
    };
    let store = Arc::new(MemoryStore::default());
    let engine = ChatEngine::open(settings, store, Arc::new(SystemClock))
        .await
        .unwrap();
    let access = HashMap::from([("svc".to_owned(), ServiceAccess::default())]);
    let app = router(GmsState {
        customers: engine.customers(),
        access: Arc::new(access),
        all_origins: Default::default(),
        trusted: Arc::default(),
        max_body_bytes: 2048,
        comet_keys: None,
    });
    (app, engine)
}

async fn post(app: &axum::Router, path: &str, form: &str) -> (u16, Value) {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap();
    let res = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {});
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn a_refresh_reads_and_its_message_is_a_typing_preview() {
    let (app, engine) = app().await;
    let (s, chat) = post(&app, "/genesys/2/chat/svc", "nickname=Bob").await;
    assert_eq!(s, 200, "{chat}");
    let (id, user, key) = (
        chat["chatId"].as_str().unwrap(),
        chat["userId"].as_str().unwrap(),
        chat["secureKey"].as_str().unwrap(),
    );
    let op = |name: &str| format!("/genesys/2/chat/svc/{id}/{name}");
    let creds = format!("userId={user}&secureKey={key}");
    let mut bus = engine.bus().subscribe();

    let (s, read) = post(
        &app,
        &op("refresh"),
        &format!("{creds}&transcriptPosition=1"),
    )
    .await;
    assert_eq!(
        (s, read["messages"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    assert!(
        bus.try_recv().is_err(),
        "a plain refresh tells the agents nothing"
    );

    let form = format!("{creds}&transcriptPosition=1&message=hel");
    let (s, typed) = post(&app, &op("refresh"), &form).await;
    assert_eq!(
        (s, typed["messages"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    match bus.try_recv() {
        Ok(BusEvent::TypingPreview { text, .. }) => assert_eq!(&*text, "hel"),
        other => panic!("expected the typing preview, got {other:?}"),
    }

    let (s, wrong) = post(&app, &op("refresh"), &format!("userId={user}&secureKey=x")).await;
    assert_eq!((s, &wrong["errors"][0]["code"]), (400, &Value::from(404)));

    let form = format!("{creds}&transcriptPosition=5");
    let (s, receipt) = post(&app, &op("readReceipt"), &form).await;
    assert_eq!(s, 400, "{receipt}");
    assert_eq!(
        receipt["errors"][0]["advice"],
        "transcriptPosition must be the index of an event"
    );
}
