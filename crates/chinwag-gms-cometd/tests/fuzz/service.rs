//! GMS operations through the whole CometD path in-process: per case a fresh engine over the
//! in-memory store and the GMS service on a fresh Bayeux server, a session, a chat requested
//! for real, then batches of near-valid operations (mostly with the chat's own `secureKey`)
//! published to `/service/chatV2/svc` over long-polling with tower's `oneshot`, each followed by
//! a connect that collects the notifications. Every request is answered (in virtual time)
//! with a JSON array of Bayeux messages, every publish is acknowledged, every notification is
//! GMS data (`statusCode` 0, or 2 with a coded error and advice), and an operation that does
//! not parse is answered with a code-400 notification carrying the parser's advice.

use crate::inputs::operation;
use crate::support::{answered, fuzz};
use axum::body::Body;
use axum::http::{Method, Request, header};
use chinwag_bayeux::BayeuxConfig;
use chinwag_core::ChatEngine;
use chinwag_core::ids::{NodeAlias, QueueName, ServiceName};
use chinwag_core::memstore::MemoryStore;
use chinwag_core::ports::SystemClock;
use chinwag_core::settings::{EngineSettings, QueueSettings, ServiceLimits, ServiceSettings};
use chinwag_gms_cometd::CometAccess;
use chinwag_gms_cometd::op::{Invalid, parse};
use chinwag_gms_wire::comet_key::CometKeys;
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

const CHANNEL: &str = "/service/chatV2/svc";

/// The GMS CometD service on a fresh engine and Bayeux server, mounted at `/cometd`.
async fn app() -> Result<axum::Router, TestCaseError> {
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
            limits: ServiceLimits {
                max_events_per_chat: 12,
                max_user_data_keys: 6,
                max_attributes_bytes: 128,
                max_attributes_depth: 3,
                ..ServiceLimits::default()
            },
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
    let fail = |e: String| TestCaseError::fail(format!("setup: {e}"));
    let engine = ChatEngine::open(
        settings,
        Arc::new(MemoryStore::default()),
        Arc::new(SystemClock),
    )
    .await
    .map_err(|e| fail(e.to_string()))?;
    let keys = CometKeys::new(&[[7u8; 32]]).map_err(|e| fail(e.to_string()))?;
    let access = HashMap::from([("svc".to_owned(), CometAccess::default())]);
    let config = BayeuxConfig {
        max_queue: 64,
        ..BayeuxConfig::default()
    };
    let (server, _) = chinwag_gms_cometd::build(
        engine.customers(),
        config,
        access,
        Arc::new(keys),
        false,
        None,
    );
    Ok(server.router("/cometd"))
}

/// Posts `batch`; checks and returns the answer's messages.
async fn post(app: &axum::Router, batch: &Value) -> Result<Vec<Value>, TestCaseError> {
    let mut req = Request::new(Body::from(batch.to_string()));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = "/cometd".parse().unwrap_or_else(|e| panic!("{e}"));
    req.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/json".parse().unwrap_or_else(|e| panic!("{e}")),
    );
    let res = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {});
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    prop_assert_eq!(status, 200, "{}", body);
    let v: Value =
        serde_json::from_str(&body).map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
    let msgs = v
        .as_array()
        .cloned()
        .ok_or_else(|| TestCaseError::fail(body.clone()))?;
    for m in &msgs {
        prop_assert!(m["channel"].is_string(), "{}", m);
        prop_assert!(
            m["successful"].is_boolean() || m.get("data").is_some(),
            "{}",
            m
        );
    }
    Ok(msgs)
}

/// Checks one notification's data; returns its error (code, advice) if it has one.
fn notification(data: &Value) -> Result<Option<(u64, String)>, TestCaseError> {
    match data["statusCode"].as_u64() {
        Some(0) => {
            prop_assert!(data["messages"].is_array(), "{}", data);
            Ok(None)
        }
        Some(2) => {
            let e = &data["errors"][0];
            let code = e["code"]
                .as_u64()
                .ok_or_else(|| TestCaseError::fail(data.to_string()))?;
            let advice = e["advice"].as_str().unwrap_or_default().to_owned();
            prop_assert!(!advice.is_empty(), "{}", data);
            Ok(Some((code, advice)))
        }
        _ => Err(TestCaseError::fail(format!(
            "not a GMS notification: {data}"
        ))),
    }
}

/// Runs one case: a session and a chat, then each batch of operations and a connect.
async fn run(batches: Vec<Vec<(Value, bool)>>) -> Result<(), TestCaseError> {
    let app = app().await?;
    let hs = post(&app, &json!([{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}])).await?;
    let client = hs[0]["clientId"].as_str().unwrap_or_default().to_owned();
    let connect = json!([{"channel": "/meta/connect", "clientId": client, "connectionType": "long-polling", "advice": {"timeout": 0}}]);
    post(&app, &connect).await?;
    let start = json!([{"channel": CHANNEL, "clientId": client, "data": {"operation": "requestChat", "nickname": "Jo"}}]);
    post(&app, &start).await?;
    let got = post(&app, &connect).await?;
    let key = got
        .iter()
        .find_map(|m| m["data"]["secureKey"].as_str())
        .ok_or_else(|| TestCaseError::fail(format!("no secureKey in {got:?}")))?
        .to_owned();
    for batch in batches {
        let mut sent = Vec::new();
        let mut refused = Vec::new();
        for (mut op, own_key) in batch {
            if own_key && op.is_object() {
                op["secureKey"] = json!(key);
            }
            // As the service reads it: from the JSON text (floats do not round-trip exactly).
            let read: Value = serde_json::from_str(&op.to_string()).unwrap_or_default();
            if let Err(Invalid(advice)) = parse("svc", &read) {
                refused.push(advice);
            }
            sent.push(json!({"channel": CHANNEL, "clientId": client, "data": op}));
        }
        let n = sent.len();
        let acks = post(&app, &Value::Array(sent)).await?;
        let acked = acks
            .iter()
            .filter(|m| m["channel"] == CHANNEL && m["successful"] == true)
            .count();
        prop_assert_eq!(acked, n, "{:?}", acks);
        let mut errors = Vec::new();
        for m in post(&app, &connect).await?.iter().chain(&acks) {
            if m["channel"] == CHANNEL && m.get("data").is_some() {
                errors.extend(notification(&m["data"])?);
            }
        }
        for advice in refused {
            prop_assert!(
                errors.iter().any(|(c, a)| *c == 400 && *a == advice),
                "no error {:?} in {:?}",
                advice,
                errors
            );
        }
    }
    Ok(())
}

#[test]
fn fuzz_cometd_operations() {
    let batches = || {
        vec(
            vec((operation(), proptest::bool::weighted(0.75)), 1..4),
            1..4,
        )
    };
    fuzz("cometd_operations", 128, batches, |b| answered(run(b))?);
}
