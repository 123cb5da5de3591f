//! The whole request path in-process: a fresh server per case (small limits, so batches,
//! sessions, subscriptions and queues overflow), usually with a session made by a real
//! handshake, then a few requests (see [`crate::requests`]) sent to its router with tower's
//! `oneshot`. Every request must be answered (in virtual time), never with a 5xx, and with
//! exactly what [`crate::expect`] works out from the request.

use crate::common::Echo;
use crate::expect::answer_ok;
use crate::inputs::handshake;
use crate::requests::{MAX_BATCH, MAX_BYTES, Own, Req, build, req};
use crate::support::{answered, fuzz};
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, header};
use chinwag_bayeux::{BayeuxConfig, BayeuxServer};
use chinwag_http::Origins;
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// A server with small limits, an echo service and one allowed origin.
fn server() -> BayeuxServer {
    let config = BayeuxConfig {
        max_batch: MAX_BATCH,
        max_message_bytes: MAX_BYTES,
        max_clients: 3,
        max_subscriptions: 2,
        max_queue: 4,
        origins: Origins::new(&["https://good.example".into()]),
        ..BayeuxConfig::default()
    };
    BayeuxServer::builder(config)
        .service("/service/echo", Arc::new(Echo))
        .build()
}

/// One case: a session first (with the ack extension if `Some(true)`), then the requests.
#[derive(Debug, Clone)]
struct Case {
    session: Option<bool>,
    reqs: Vec<Req>,
}

/// Sends `req`; returns status, content type and body.
async fn send(app: &axum::Router, req: Request<Body>) -> (u16, String, String, Option<String>) {
    let res = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {});
    let status = res.status().as_u16();
    let text = |v: Option<&HeaderValue>| v.and_then(|v| v.to_str().ok()).map(str::to_owned);
    let ctype = text(res.headers().get(header::CONTENT_TYPE)).unwrap_or_default();
    let cookie = text(res.headers().get(header::SET_COOKIE));
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("<body failed: {e}>"));
    (status, ctype, body, cookie)
}

/// Runs one case on a fresh server.
async fn run(case: Case) -> Result<(), TestCaseError> {
    let server = server();
    let app = server.router("/cometd");
    let mut own = Own::default();
    if let Some(ack) = case.session {
        let body = handshake(&["long-polling", "callback-polling"], ack);
        let mut req = Request::new(Body::from(body));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = "/cometd/handshake"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let (status, _, body, cookie) = send(&app, req).await;
        prop_assert_eq!(status, 200, "{}", body);
        let v: Value =
            serde_json::from_str(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        own.id = v[0]["clientId"].as_str().map(str::to_owned);
        own.cookie = cookie
            .as_deref()
            .and_then(|c| c.split(';').next())
            .and_then(|c| c.split_once('='))
            .map(|(_, v)| v.to_owned());
        prop_assert!(own.id.is_some() && own.cookie.is_some(), "{}", body);
    }
    let allowed = server.config().origins.clone();
    for r in &case.reqs {
        let (req, expect) = build(r, &own, &allowed);
        let (status, ctype, body, _) = send(&app, req).await;
        answer_ok(status, &ctype, &body, &expect)?;
    }
    server.close_all();
    Ok(())
}

#[test]
fn fuzz_router_requests() {
    let case = || {
        let session = prop_oneof![3 => Just(Some(false)), 1 => Just(Some(true)), 1 => Just(None)];
        (session, vec(req(), 1..5)).prop_map(|(session, reqs)| Case { session, reqs })
    };
    fuzz("router_requests", 256, case, |case| answered(run(case))?);
}
