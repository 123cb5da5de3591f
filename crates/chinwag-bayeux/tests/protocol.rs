//! Raw-HTTP protocol tests against a real server on loopback: every error path (bad JSON,
//! unknown client, wrong channel, missing fields, publish to /meta, oversized batch, cookie
//! mismatch, connect without handshake), the cookie, multiple-clients advice, acks, the sweep.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use chinwag_bayeux::BayeuxConfig;
use common::{browser_of, quick, start};
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn handshake_connect_subscribe_publish_deliver() {
    let s = start(quick()).await;
    let (_, text, set) = s
        .raw("/handshake", r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling","callback-polling"],"id":"h1"}]"#, None)
        .await;
    let v: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(v[0]["successful"], true);
    assert_eq!(v[0]["id"], "h1");
    assert_eq!(v[0]["version"], "1.0");
    assert_eq!(v[0]["advice"]["reconnect"], "retry");
    assert_eq!(v[0]["advice"]["timeout"], 1500);
    assert!(
        v[0]["supportedConnectionTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("long-polling"))
    );
    let id = v[0]["clientId"].as_str().unwrap();
    assert!(id.len() >= 32 && id.chars().all(|c| c.is_ascii_alphanumeric()));
    let set = set.unwrap();
    assert!(
        set.starts_with("BAYEUX_BROWSER=") && set.contains("HttpOnly") && set.contains("Path=/"),
        "{set}"
    );
    assert!(!set.contains("Partitioned"));
    let browser = browser_of(&set);

    // First connect is answered at once even without timeout 0.
    let r = s.post(json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling","id":"2"}]), Some(&browser)).await;
    assert_eq!(r[0]["id"], "2");
    let r = s.post(json!([{"channel":"/meta/subscribe","clientId":id,"subscription":["/chat/a","/chat/*"],"id":"3"},
                           {"channel":"/meta/subscribe","clientId":id,"subscription":"/service/echo","id":"4"}]), Some(&browser)).await;
    assert_eq!(r[0]["successful"], true);
    assert_eq!(r[0]["subscription"], json!(["/chat/a", "/chat/*"]));
    assert_eq!(
        r[1]["successful"], true,
        "service subscriptions are answered"
    );
    // A held connect is woken by a publish; the delivery comes once although two patterns match.
    let held = s.post_later("/connect", &json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling","id":"5"}]), &browser);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = s
        .post(
            json!([{"channel":"/chat/a","clientId":id,"data":{"t":1},"id":"6"},
                           {"channel":"/service/echo","clientId":id,"data":{"q":2},"id":"7"}]),
            Some(&browser),
        )
        .await;
    assert_eq!(r.len(), 2);
    assert!(
        r.iter()
            .all(|m| m["successful"] == true && m.get("data").is_none()),
        "publish acks carry no data: {r:?}"
    );
    let mut got: Vec<Value> = serde_json::from_str(&held.await.unwrap()).unwrap();
    if got.len() < 3 {
        let more = s.post(json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling","id":"8","advice":{"timeout":0}}]), Some(&browser)).await;
        got.extend(more);
    }
    let deliveries: Vec<&Value> = got.iter().filter(|m| m.get("data").is_some()).collect();
    assert_eq!(deliveries.len(), 2, "{got:?}");
    assert_eq!(deliveries[0]["channel"], "/chat/a");
    assert_eq!(deliveries[0]["data"], json!({"t":1}));
    assert!(
        deliveries[0].get("clientId").is_none(),
        "clientId never leaks into deliveries"
    );
    assert_eq!(deliveries[1]["data"], json!({"echo":{"q":2}}));
    assert_eq!(
        got.iter()
            .filter(|m| m["channel"] == "/meta/connect")
            .count(),
        got.len() - 2
    );
}

#[tokio::test]
async fn bad_json_and_oversized_requests_get_400_with_a_bayeux_error() {
    let s = start(BayeuxConfig {
        max_batch: 3,
        max_message_bytes: 2048,
        ..quick()
    })
    .await;
    let (status, text, _) = s.raw("", "[{\"channel\":", None).await;
    assert_eq!(status, 400);
    let v: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(v[0]["successful"], false);
    assert!(
        v[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("400::message_invalid")
    );
    let (status, _, _) = s.raw("", &"x".repeat(5000), None).await;
    assert_eq!(status, 400, "oversized body");
    let batch = json!([{"channel":"/a"},{"channel":"/a"},{"channel":"/a"},{"channel":"/a"}]);
    let r = s.post(batch, None).await;
    assert_eq!(r.len(), 1);
    assert!(
        r[0]["error"].as_str().unwrap().starts_with("400:batch:"),
        "{r:?}"
    );
}

#[tokio::test]
async fn unknown_client_and_connect_without_handshake_get_402_and_handshake_advice() {
    let s = start(quick()).await;
    for msg in [
        json!({"channel":"/meta/connect","clientId":"nope","connectionType":"long-polling","id":"1"}),
        json!({"channel":"/meta/connect","connectionType":"long-polling","id":"1"}),
        json!({"channel":"/meta/subscribe","clientId":"nope","subscription":"/a","id":"1"}),
        json!({"channel":"/chat/x","clientId":"nope","data":{},"id":"1"}),
    ] {
        let r = s.post(json!([msg]), None).await;
        assert_eq!(r[0]["successful"], false);
        assert_eq!(r[0]["error"], "402::Unknown client");
        assert_eq!(r[0]["advice"]["reconnect"], "handshake");
        assert_eq!(r[0]["id"], "1");
    }
}

#[tokio::test]
async fn wrong_channels_and_missing_fields_are_refused() {
    let s = start(quick()).await;
    let (id, b) = s.session().await;
    let cases = [
        (
            json!({"channel":"/meta/handshake","id":"1"}),
            "400:version:",
        ),
        (
            json!({"channel":"/meta/handshake","version":"1.0","id":"1"}),
            "400:supportedConnectionTypes:",
        ),
        (
            json!({"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["carrier-pigeon"],"id":"1"}),
            "301:",
        ),
    ];
    for (msg, err) in cases {
        let r = s.post(json!([msg]), None).await;
        assert!(r[0]["error"].as_str().unwrap().starts_with(err), "{r:?}");
        assert_eq!(r[0]["advice"]["reconnect"], "none");
    }
    let cases = [
        (
            json!({"channel":"/meta/connect","clientId":id,"id":"1"}),
            "400:connectionType:",
        ),
        (
            json!({"channel":"/meta/subscribe","clientId":id,"id":"1"}),
            "400:subscription:",
        ),
        (
            json!({"channel":"/meta/subscribe","clientId":id,"subscription":"/meta/connect","id":"1"}),
            "403:/meta/connect:",
        ),
        (
            json!({"channel":"/meta/subscribe","clientId":id,"subscription":"/a/*/b","id":"1"}),
            "405:",
        ),
        (
            json!({"channel":"/meta/subscribe","clientId":id,"subscription":["/a",3],"id":"1"}),
            "400:subscription:",
        ),
        (
            json!({"channel":"/chat/x","clientId":id,"id":"1"}),
            "400:data:",
        ),
        (
            json!({"channel":"/chat/*","clientId":id,"data":{},"id":"1"}),
            "405:/chat/*:",
        ),
        (
            json!({"channel":"bad name","clientId":id,"data":{},"id":"1"}),
            "405:",
        ),
        (
            json!({"channel":"/meta/custom","clientId":id,"data":{},"id":"1"}),
            "403:/meta/custom:",
        ),
        (json!({"clientId":id,"data":{},"id":"1"}), "400:channel:"),
    ];
    for (msg, err) in cases {
        let r = s.post(json!([msg]), Some(&b)).await;
        assert_eq!(r[0]["successful"], false, "{r:?}");
        assert!(
            r[0]["error"].as_str().unwrap().starts_with(err),
            "{err}: {r:?}"
        );
    }
}

#[tokio::test]
async fn a_cookie_of_another_browser_is_refused_a_missing_one_is_not() {
    let s = start(quick()).await;
    let (id, _) = s.session().await;
    let msg = json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling","id":"9","advice":{"timeout":0}}]);
    let r = s.post(msg.clone(), Some("someone-else")).await;
    assert_eq!(r[0]["error"], "402::Unknown client");
    let r = s.post(msg, None).await;
    assert_eq!(r[0]["successful"], true);
}

#[tokio::test]
async fn cross_site_cookie_is_partitioned() {
    let mut c = quick();
    c.cookie.cross_site = true;
    let s = start(c).await;
    let (_, _, set) = s
        .raw("", r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}]"#, None)
        .await;
    let set = set.unwrap();
    for attr in ["HttpOnly", "SameSite=None", "Secure", "Partitioned"] {
        assert!(set.contains(attr), "{set}");
    }
}

#[tokio::test]
async fn a_second_parked_connect_of_one_browser_gets_multiple_clients_advice() {
    let s = start(quick()).await;
    let (a, browser) = s.session().await;
    let msg = |id: &str| json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling","id":"5"}]);
    let held = s.post_later("", &msg(&a), &browser);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_, text, _) = s
        .raw("", r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}]"#, Some(&browser))
        .await;
    let v: Vec<Value> = serde_json::from_str(&text).unwrap();
    let b_id = v[0]["clientId"].as_str().unwrap().to_owned();
    s.post(msg(&b_id), Some(&browser)).await; // first connect: immediate
    let started = std::time::Instant::now();
    let r = s.post(msg(&b_id), Some(&browser)).await;
    assert!(started.elapsed() < Duration::from_millis(1000), "not held");
    assert_eq!(r[0]["advice"]["multiple-clients"], true);
    assert_eq!(r[0]["advice"]["interval"], 2000);
    let first: Vec<Value> = serde_json::from_str(&held.await.unwrap()).unwrap();
    assert!(first[0]["advice"].get("multiple-clients").is_none());
}

#[tokio::test]
async fn ack_extension_resends_until_acknowledged() {
    let s = start(quick()).await;
    let (_, text, set) = s
        .raw("", r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"ext":{"ack":true}}]"#, None)
        .await;
    let v: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(v[0]["ext"]["ack"], true);
    let id = v[0]["clientId"].as_str().unwrap().to_owned();
    let b = browser_of(&set.unwrap());
    let connect = |ack: u64| json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling","ext":{"ack":ack},"advice":{"timeout":0}}]);
    let r = s.post(connect(0), Some(&b)).await;
    assert_eq!(r.last().unwrap()["ext"]["ack"], 1);
    s.post(
        json!([{"channel":"/meta/subscribe","clientId":id,"subscription":"/x"}]),
        Some(&b),
    )
    .await;
    s.server.publish("/x", &json!({"n":1})).unwrap();
    let r = s.post(connect(1), Some(&b)).await;
    assert_eq!(r.len(), 2);
    assert_eq!(r[1]["ext"]["ack"], 2);
    // The reply was "lost": the client acks only batch 1 again, so the message comes back.
    let r = s.post(connect(1), Some(&b)).await;
    assert_eq!(r.len(), 2, "re-sent: {r:?}");
    assert_eq!(r[0]["data"]["n"], 1);
    let r = s.post(connect(3), Some(&b)).await;
    assert_eq!(
        r.len(),
        1,
        "acknowledged messages are not sent again: {r:?}"
    );
}

#[tokio::test]
async fn idle_sessions_are_swept() {
    let s = start(BayeuxConfig {
        max_interval: Duration::from_millis(50),
        ..quick()
    })
    .await;
    let (id, b) = s.session().await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(s.server.sweep(), 1);
    let r = s
        .post(
            json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling"}]),
            Some(&b),
        )
        .await;
    assert_eq!(r[0]["error"], "402::Unknown client");
}

#[tokio::test]
async fn disconnect_ends_the_session_and_a_server_disconnect_says_do_not_retry() {
    let s = start(quick()).await;
    let (id, b) = s.session().await;
    let r = s
        .post(
            json!([{"channel":"/meta/disconnect","clientId":id,"id":"d"}]),
            Some(&b),
        )
        .await;
    assert_eq!(r[0]["successful"], true);
    assert_eq!(s.server.session_count(), 0);
    let (id, b) = s.session().await;
    let held = s.post_later(
        "",
        &json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling"}]),
        &b,
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.server.disconnect(&chinwag_bayeux::ClientId::new(&id));
    let r: Vec<Value> = serde_json::from_str(&held.await.unwrap()).unwrap();
    assert_eq!(r[0]["advice"]["reconnect"], "none");
}

#[tokio::test]
async fn unsubscribed_clients_receive_nothing() {
    let s = start(quick()).await;
    let (id, b) = s.session().await;
    let r = s
        .post(
            json!([{"channel":"/meta/subscribe","clientId":id,"subscription":"/u/a"},
                     {"channel":"/meta/unsubscribe","clientId":id,"subscription":"/u/a","id":"u"}]),
            Some(&b),
        )
        .await;
    assert_eq!(r[1]["successful"], true);
    assert_eq!(r[1]["subscription"], "/u/a");
    assert_eq!(s.server.publish("/u/a", &json!({"x":1})).unwrap(), 0);
    let r = s
        .post(json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling","advice":{"timeout":0}}]), Some(&b))
        .await;
    assert_eq!(r.len(), 1, "only the connect reply: {r:?}");
}

#[tokio::test]
async fn a_second_connect_answers_the_held_one() {
    let s = start(BayeuxConfig {
        timeout: Duration::from_secs(20),
        ..quick()
    })
    .await;
    let (id, b) = s.session().await;
    let connect = |n: &str| json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling","id":n}]);
    let held = s.post_later("", &connect("a"), &b);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = s.post_later("", &connect("b"), &b);
    // The first is answered (superseded) while the second is the one now held.
    let first: Vec<Value> = serde_json::from_str(
        &tokio::time::timeout(Duration::from_secs(10), held)
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first[0]["id"], "a");
    assert_eq!(first[0]["successful"], true);
    assert!(!second.is_finished());
    s.server.publish("/nobody", &json!({})).unwrap();
    s.server.disconnect(&chinwag_bayeux::ClientId::new(&id));
    let second: Vec<Value> = serde_json::from_str(&second.await.unwrap()).unwrap();
    assert_eq!(second[0]["id"], "b");
}

#[tokio::test]
async fn a_client_whose_queue_overflows_is_dropped_and_told_to_handshake() {
    let s = start(BayeuxConfig {
        max_queue: 3,
        ..quick()
    })
    .await;
    let (id, b) = s.session().await;
    s.post(
        json!([{"channel":"/meta/subscribe","clientId":id,"subscription":"/q"}]),
        Some(&b),
    )
    .await;
    for n in 0..3 {
        assert_eq!(s.server.publish("/q", &json!({ "n": n })).unwrap(), 1);
    }
    assert_eq!(
        s.server.publish("/q", &json!({"n": 3})).unwrap(),
        0,
        "the fourth overflows"
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
