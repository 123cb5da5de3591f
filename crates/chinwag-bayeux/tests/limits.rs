//! The bounds on what clients can make the server hold, over real sockets: queued and
//! unacknowledged bytes per session, handshakes per client address (on every transport,
//! keyed by the address behind trusted proxies), sessions in all, subscriptions per session.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use chinwag_bayeux::BayeuxConfig;
use chinwag_http::TrustedProxies;
use chinwag_limits::Rate;
use common::{quick, start};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;

const HANDSHAKE: &str = r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling","callback-polling","websocket"],"id":"h"}]"#;

/// A JSON string payload whose delivery on `/q` is 425 bytes.
fn payload() -> Value {
    json!("x".repeat(400))
}

#[tokio::test]
async fn queued_bytes_past_the_bound_drop_the_session() {
    let s = start(BayeuxConfig {
        max_queue_bytes: 1000,
        ..quick()
    })
    .await;
    let (id, b) = s.session().await;
    s.post(
        json!([{"channel":"/meta/subscribe","clientId":id,"subscription":"/q"}]),
        Some(&b),
    )
    .await;
    assert_eq!(s.server.publish("/q", &payload()).unwrap(), 1);
    assert_eq!(s.server.publish("/q", &payload()).unwrap(), 1);
    assert_eq!(
        s.server.publish("/q", &payload()).unwrap(),
        0,
        "three messages of 425 bytes pass 1000 bytes (far from max_queue)"
    );
    assert_eq!(s.server.session_count(), 0);
    let r = s
        .post(
            json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling"}]),
            Some(&b),
        )
        .await;
    assert_eq!(r[0]["error"], "402::Unknown client");
    assert_eq!(r[0]["advice"]["reconnect"], "handshake");
}

#[tokio::test]
async fn unacknowledged_messages_count_against_the_bound() {
    let s = start(BayeuxConfig {
        max_queue_bytes: 1000,
        ..quick()
    })
    .await;
    let h = s.post(json!([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"ext":{"ack":true}}]), None).await;
    let id = h[0]["clientId"].as_str().unwrap().to_owned();
    let connect = json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling"},
                         {"channel":"/meta/subscribe","clientId":id,"subscription":"/q"}]);
    s.post(connect, None).await;
    assert_eq!(s.server.publish("/q", &payload()).unwrap(), 1);
    // Sent in a connect reply, never acknowledged: still held for a resend.
    let r = s
        .post(
            json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling"}]),
            None,
        )
        .await;
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(s.server.publish("/q", &payload()).unwrap(), 1);
    assert_eq!(
        s.server.publish("/q", &payload()).unwrap(),
        0,
        "one unacknowledged and two queued pass the bound"
    );
    assert_eq!(s.server.session_count(), 0);
}

/// The handshake reply (first message) of a long-polling POST with `xff` as
/// `X-Forwarded-For`.
async fn handshake_from(s: &common::Srv, xff: Option<&str>) -> Value {
    let mut req = s
        .http
        .post(&s.url)
        .header("content-type", "application/json")
        .body(HANDSHAKE);
    if let Some(x) = xff {
        req = req.header("x-forwarded-for", x);
    }
    let v: Vec<Value> = req.send().await.unwrap().json().await.unwrap();
    v[0].clone()
}

fn assert_rate_limited(reply: &Value) {
    assert_eq!(reply["successful"], false, "{reply}");
    assert_eq!(reply["error"], "429::handshake_rate_limited");
    assert_eq!(reply["advice"]["reconnect"], "handshake");
    let interval = reply["advice"]["interval"].as_u64().unwrap();
    assert!((1..=2_000).contains(&interval), "retry after: {interval}");
}

#[tokio::test]
async fn handshakes_are_rate_limited_per_address_on_every_transport() {
    let s = start(BayeuxConfig {
        handshakes_per_ip: Rate::new(0.5, 2),
        ..quick()
    })
    .await;
    for _ in 0..2 {
        assert_eq!(handshake_from(&s, None).await["successful"], true);
    }
    // No trusted proxies: a forwarded address does not make a new client.
    assert_rate_limited(&handshake_from(&s, Some("198.51.100.1")).await);
    // JSONP and WebSocket (served by the router) count against the same address.
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("jsonp", "cb")
        .append_pair("message", HANDSHAKE)
        .finish();
    let body = s
        .http
        .get(format!("{}?{q}", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let json = body
        .strip_prefix("/**/cb(")
        .unwrap()
        .strip_suffix(");")
        .unwrap();
    let v: Vec<Value> = serde_json::from_str(json).unwrap();
    assert_rate_limited(&v[0]);
    let url = s.url.replace("http://", "ws://");
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    ws.send(tokio_tungstenite::tungstenite::Message::text(HANDSHAKE))
        .await
        .unwrap();
    let text = loop {
        if let tokio_tungstenite::tungstenite::Message::Text(t) = ws.next().await.unwrap().unwrap()
        {
            break t;
        }
    };
    let v: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_rate_limited(&v[0]);
    assert_eq!(s.server.session_count(), 2);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let s = start(BayeuxConfig {
        handshakes_per_ip: Rate::new(0.5, 2),
        trusted_proxies: Arc::new(TrustedProxies::parse(&["127.0.0.1".into()]).unwrap()),
        ..quick()
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            handshake_from(&s, Some("198.51.100.1")).await["successful"],
            true
        );
    }
    assert_rate_limited(&handshake_from(&s, Some("198.51.100.1")).await);
    assert_eq!(
        handshake_from(&s, Some("198.51.100.2")).await["successful"],
        true
    );
    // IPv6 clients count by their /64.
    for x in ["2001:db8:1:2::1", "2001:db8:1:2::2"] {
        assert_eq!(handshake_from(&s, Some(x)).await["successful"], true);
    }
    assert_rate_limited(&handshake_from(&s, Some("2001:db8:1:2::3")).await);
}

#[tokio::test]
async fn a_full_server_refuses_handshakes_with_a_randomized_retry() {
    let s = start(BayeuxConfig {
        max_clients: 2,
        ..quick()
    })
    .await;
    let a = handshake_from(&s, None).await;
    assert_eq!(a["successful"], true);
    assert_eq!(handshake_from(&s, None).await["successful"], true);
    let full = handshake_from(&s, None).await;
    assert_eq!(full["successful"], false);
    assert_eq!(full["error"], "503::server_full");
    assert_eq!(full["advice"]["reconnect"], "handshake");
    let interval = full["advice"]["interval"].as_u64().unwrap();
    assert!((1_000..5_000).contains(&interval), "{interval}");
    assert_eq!(s.server.session_count(), 2);
    let id = a["clientId"].as_str().unwrap();
    s.post(json!([{"channel":"/meta/disconnect","clientId":id}]), None)
        .await;
    assert_eq!(
        handshake_from(&s, None).await["successful"],
        true,
        "room again"
    );
}

#[tokio::test]
async fn subscriptions_per_session_are_capped_all_or_nothing() {
    let s = start(BayeuxConfig {
        max_subscriptions: 3,
        ..quick()
    })
    .await;
    let (id, b) = s.session().await;
    let sub = |on: bool, what: Value| {
        let channel = if on {
            "/meta/subscribe"
        } else {
            "/meta/unsubscribe"
        };
        json!([{"channel":channel,"clientId":id,"subscription":what,"id":"s"}])
    };
    let r = s.post(sub(true, json!(["/a", "/b"])), Some(&b)).await;
    assert_eq!(r[0]["successful"], true);
    let r = s.post(sub(true, json!(["/c", "/d"])), Some(&b)).await;
    assert_eq!(r[0]["successful"], false);
    assert_eq!(r[0]["error"], "403:3:subscription_limit");
    assert_eq!(
        s.server.publish("/c", &json!({})).unwrap(),
        0,
        "nothing of a refused batch was subscribed"
    );
    // Held ones and repeats count once; service channels are not recorded.
    let r = s
        .post(
            sub(true, json!(["/a", "/c", "/c", "/service/echo"])),
            Some(&b),
        )
        .await;
    assert_eq!(r[0]["successful"], true, "{r:?}");
    let r = s.post(sub(true, json!("/d")), Some(&b)).await;
    assert_eq!(r[0]["error"], "403:3:subscription_limit");
    s.post(sub(false, json!("/a")), Some(&b)).await;
    let r = s.post(sub(true, json!("/d")), Some(&b)).await;
    assert_eq!(r[0]["successful"], true);
    assert_eq!(s.server.publish("/d", &json!({})).unwrap(), 1);
}
