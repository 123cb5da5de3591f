//! The callback-polling (JSONP) and WebSocket transports over real loopback sockets.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{quick, start};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn jsonp_checks_the_callback_and_frames_the_reply() {
    let s = start(quick()).await;
    let msg = r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["callback-polling"]}]"#;
    let url = |cb: &str, m: &str| {
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("jsonp", cb)
            .append_pair("message", m)
            .finish();
        format!("{}?{q}", s.url)
    };
    let get = |cb: &str| s.http.get(url(cb, msg)).send();
    let r = get("alert(document.cookie)//").await.unwrap();
    assert_eq!(r.status(), 400);
    let r = get("_cometd_jsonp_1").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/javascript;charset=UTF-8");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let body = r.text().await.unwrap();
    let json = body
        .strip_prefix("/**/_cometd_jsonp_1(")
        .and_then(|b| b.strip_suffix(");"))
        .unwrap();
    let v: Vec<Value> = serde_json::from_str(json).unwrap();
    assert_eq!(v[0]["successful"], true);
    let r = s.http.get(url("cb", "[{")).send().await.unwrap();
    assert_eq!(
        r.status(),
        200,
        "a script tag cannot read statuses: the error is in the body"
    );
    assert!(r.text().await.unwrap().contains("400::message_invalid"));
}

#[tokio::test]
async fn websocket_handshake_subscribe_and_push() {
    let s = start(quick()).await;
    let ws_url = s.url.replace("http://", "ws://");
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .unwrap();
    use tokio_tungstenite::tungstenite::Message as M;
    async fn next(
        ws: &mut (impl StreamExt<Item = Result<M, tokio_tungstenite::tungstenite::Error>> + Unpin),
    ) -> Vec<Value> {
        loop {
            if let M::Text(t) = ws.next().await.unwrap().unwrap() {
                return serde_json::from_str(&t).unwrap();
            }
        }
    }
    ws.send(M::text(json!([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket"],"id":"1"}]).to_string())).await.unwrap();
    let h = next(&mut ws).await;
    let id = h[0]["clientId"].as_str().unwrap().to_owned();
    ws.send(M::text(json!([{"channel":"/meta/connect","clientId":id,"connectionType":"websocket","id":"2"},
                           {"channel":"/meta/subscribe","clientId":id,"subscription":"/w/**","id":"3"}]).to_string())).await.unwrap();
    let mut seen = next(&mut ws).await;
    while seen.len() < 2 {
        seen.extend(next(&mut ws).await);
    }
    ws.send(M::text(
        json!([{"channel":"/meta/connect","clientId":id,"connectionType":"websocket","id":"4"}])
            .to_string(),
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        s.server.publish("/w/a/b", &json!({"pushed":true})).unwrap(),
        1
    );
    let pushed = next(&mut ws).await;
    assert_eq!(
        pushed[0]["data"]["pushed"], true,
        "delivered at once, not with the held connect: {pushed:?}"
    );
    let held = next(&mut ws).await;
    assert_eq!(held[0]["channel"], "/meta/connect");
    assert_eq!(held[0]["id"], "4");
}
