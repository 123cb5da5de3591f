//! The lean long-polling front over raw TCP: what it serves itself, what it hands to the
//! router on the same connection (JSONP, chunked bodies, pipelining, oversized heads), and
//! that both answer alike.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use chinwag_bayeux::BayeuxConfig;
use common::{post, quick, response, start};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HANDSHAKE: &str = r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling","callback-polling"],"id":"1"}]"#;

fn client_id(body: &str) -> String {
    let v: Vec<Value> = serde_json::from_str(body).unwrap();
    v[0]["clientId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn one_connection_carries_lean_posts_then_router_requests() {
    let srv = start(quick()).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let mut pending = Vec::new();
    s.write_all(post("/handshake", "", HANDSHAKE).as_bytes())
        .await
        .unwrap();
    let (status, head, body) = response(&mut s, &mut pending).await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: application/json;charset=utf-8"));
    assert!(head.contains("set-cookie: bayeux_browser="), "{head}");
    let id = client_id(&body);
    // A JSONP connect on the same connection: the front hands it over to the router.
    let msg = format!(
        r#"[{{"channel":"/meta/connect","clientId":"{id}","connectionType":"callback-polling","id":"2"}}]"#
    );
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("jsonp", "cb")
        .append_pair("message", &msg)
        .finish();
    s.write_all(format!("GET /cometd/connect?{q} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let (status, head, body) = response(&mut s, &mut pending).await;
    assert_eq!(status, 200);
    assert!(head.contains("text/javascript"), "{head}");
    assert!(
        body.contains("cb(") && body.contains(r#""successful":true"#),
        "{body}"
    );
    // And a long-polling POST after it is still answered (now by the router).
    let msg = format!(r#"[{{"channel":"/meta/disconnect","clientId":"{id}","id":"3"}}]"#);
    s.write_all(post("/disconnect", "", &msg).as_bytes())
        .await
        .unwrap();
    let (status, _, body) = response(&mut s, &mut pending).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""successful":true"#), "{body}");
}

#[tokio::test]
async fn chunked_and_pipelined_posts_are_answered_in_order() {
    let srv = start(quick()).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let mut pending = Vec::new();
    let chunked = format!(
        "POST /cometd HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{HANDSHAKE}\r\n0\r\n\r\n",
        HANDSHAKE.len()
    );
    s.write_all(chunked.as_bytes()).await.unwrap();
    let (status, _, body) = response(&mut s, &mut pending).await;
    assert_eq!(status, 200);
    let id = client_id(&body);
    // Two requests in one write: a pipelined pair.
    let sub = format!(
        r#"[{{"channel":"/meta/subscribe","clientId":"{id}","subscription":"/a","id":"s"}}]"#
    );
    let unsub = format!(
        r#"[{{"channel":"/meta/unsubscribe","clientId":"{id}","subscription":"/a","id":"u"}}]"#
    );
    let both = post("", "", &sub) + &post("", "", &unsub);
    s.write_all(both.as_bytes()).await.unwrap();
    let (_, _, first) = response(&mut s, &mut pending).await;
    let (_, _, second) = response(&mut s, &mut pending).await;
    assert!(first.contains("/meta/subscribe") && first.contains(r#""successful":true"#));
    assert!(second.contains("/meta/unsubscribe") && second.contains(r#""successful":true"#));
}

#[tokio::test]
async fn preflight_and_cors_headers_from_the_front() {
    let srv = start(BayeuxConfig {
        origins: chinwag_http::Origins::new(&["https://shop.example".into()]),
        ..quick()
    })
    .await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let mut pending = Vec::new();
    s.write_all(b"OPTIONS /cometd/handshake HTTP/1.1\r\nhost: x\r\norigin: https://shop.example\r\naccess-control-request-method: POST\r\n\r\n")
        .await
        .unwrap();
    let (status, head, _) = response(&mut s, &mut pending).await;
    assert_eq!(status, 204);
    assert!(head.contains("access-control-allow-origin: https://shop.example"));
    assert!(head.contains("access-control-allow-credentials: true"));
    s.write_all(
        post(
            "/handshake",
            "origin: https://shop.example\r\nconnection: close\r\n",
            HANDSHAKE,
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let (status, head, _) = response(&mut s, &mut pending).await;
    assert_eq!(status, 200);
    assert!(head.contains("access-control-allow-origin: https://shop.example"));
    assert!(head.contains("connection: close"));
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest))
        .await
        .expect("closed after connection: close")
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn bad_bodies_and_oversized_heads_get_clear_errors() {
    let srv = start(quick()).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let mut pending = Vec::new();
    s.write_all(post("", "", "[{nope").as_bytes())
        .await
        .unwrap();
    let (status, _, body) = response(&mut s, &mut pending).await;
    assert_eq!(status, 400);
    assert!(body.contains("400::message_invalid"), "{body}");
    // The front closes after a body it could not read; a head over the limit goes to the
    // router, which refuses it.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let mut pending = Vec::new();
    let big = format!("cookie: a={}\r\n", "x".repeat(9000));
    s.write_all(post("", &big, HANDSHAKE).as_bytes())
        .await
        .unwrap();
    let (status, _, _) = response(&mut s, &mut pending).await;
    assert_eq!(status, 431);
}

#[tokio::test]
async fn a_client_that_goes_away_releases_its_held_connect() {
    let srv = start(BayeuxConfig {
        timeout: Duration::from_secs(20),
        ..quick()
    })
    .await;
    let (id, browser) = srv.session().await;
    let connect = format!(
        r#"[{{"channel":"/meta/connect","clientId":"{id}","connectionType":"long-polling","id":"9"}}]"#
    );
    let cookie = format!("cookie: BAYEUX_BROWSER={browser}\r\n");
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(post("/connect", &cookie, &connect).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(srv.server.held_connects(), 1);
    drop(s);
    let released = async {
        while srv.server.held_connects() != 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), released)
        .await
        .expect("the held connect is released when its client goes away");
}
