//! What the fuzz targets found, pinned as plain tests: a JSONP callback is checked before any
//! script is written with it (a bad batch used to be answered with the unchecked callback, or
//! with the default one when the callback came after it), and the timesync extension takes
//! any client numbers (their sum used to overflow).

use crate::support::answered;
use axum::body::Body;
use axum::http::{Method, Request};
use chinwag_bayeux::{BayeuxConfig, BayeuxServer};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn send(app: &axum::Router, method: Method, uri: &str, body: String) -> (u16, String) {
    let mut req = Request::new(Body::from(body));
    *req.method_mut() = method;
    *req.uri_mut() = uri.parse().unwrap();
    let res = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {});
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn a_bad_batch_never_reflects_an_unchecked_callback() {
    let app = BayeuxServer::builder(BayeuxConfig::default())
        .build()
        .router("/cometd");
    let (status, body) = answered(send(
        &app,
        Method::GET,
        "/cometd?jsonp=alert(document.domain)//&message=%5B%7B",
        String::new(),
    ))
    .unwrap();
    assert_eq!(status, 400, "{body}");
    assert_eq!(body, "invalid jsonp callback name");
    // A good callback after the bad batch is the one called.
    let (status, body) = answered(send(
        &app,
        Method::GET,
        "/cometd?message=%5B%7B&jsonp=cb_1",
        String::new(),
    ))
    .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("/**/cb_1([{"), "{body}");
}

#[test]
fn timesync_takes_any_client_numbers() {
    let app = BayeuxServer::builder(BayeuxConfig::default())
        .build()
        .router("/cometd");
    let extreme = json!({"timesync": {"tc": i64::MAX, "l": i64::MAX, "o": i64::MAX}});
    let hs = json!([{"channel": "/meta/handshake", "version": "1.0",
        "supportedConnectionTypes": ["long-polling"], "ext": extreme}]);
    let (status, body) = answered(send(&app, Method::POST, "/cometd", hs.to_string())).unwrap();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["successful"], true, "{body}");
    let a = v[0]["ext"]["timesync"]["a"].as_i64();
    assert!(a.is_some_and(|a| a > i64::MAX / 2), "{body}");
    let low = json!({"timesync": {"tc": i64::MIN, "l": -1, "o": i64::MIN}});
    let connect = json!([{"channel": "/meta/connect", "clientId": v[0]["clientId"],
        "connectionType": "long-polling", "ext": low}]);
    let (status, body) =
        answered(send(&app, Method::POST, "/cometd", connect.to_string())).unwrap();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["ext"]["timesync"]["a"], i64::MIN, "{body}");
}
