//! The WebSocket transport against hostile or dead clients over real sockets: a client that
//! stops reading is dropped after the send timeout while others are served, a silent client
//! is pinged and dropped, a live one answers pings and stays, and oversized or non-UTF-8
//! messages get their close codes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use chinwag_bayeux::BayeuxConfig;
use common::{Srv, eventually, quick, start, start_with};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as M;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(s: &Srv) -> Ws {
    let url = s.url.replace("http://", "ws://");
    tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap()
        .0
}

/// A client whose socket takes in little (no receive-window growth), over `raw`.
async fn connect_small(s: &Srv) -> WebSocketStream<TcpStream> {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(8192).unwrap();
    let stream = sock.connect(s.addr).await.unwrap();
    let url = s.url.replace("http://", "ws://");
    tokio_tungstenite::client_async(url.as_str(), stream)
        .await
        .unwrap()
        .0
}

async fn send<S>(ws: &mut WebSocketStream<S>, v: Value)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    ws.send(M::text(v.to_string())).await.unwrap();
}

/// The next JSON array (skipping control frames), within 10 s.
async fn next<S>(ws: &mut WebSocketStream<S>) -> Vec<Value>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let read = async {
        loop {
            match ws.next().await.unwrap().unwrap() {
                M::Text(t) => return serde_json::from_str(&t).unwrap(),
                M::Close(c) => panic!("closed: {c:?}"),
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("a message in time")
}

/// Handshake, first connect and a subscription to `channel`; returns the client id.
async fn join<S>(ws: &mut WebSocketStream<S>, channel: &str) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    send(ws, json!([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket"],"id":"1"}])).await;
    let h = next(ws).await;
    let id = h[0]["clientId"].as_str().unwrap().to_owned();
    send(
        ws,
        json!([{"channel":"/meta/connect","clientId":id,"connectionType":"websocket","id":"2"},
                    {"channel":"/meta/subscribe","clientId":id,"subscription":channel,"id":"3"}]),
    )
    .await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.extend(next(ws).await);
    }
    assert!(seen.iter().all(|m| m["successful"] == true), "{seen:?}");
    id
}

/// Reads until the stream ends (closed, reset, or a close frame), within `secs`; returns the
/// close frame if one came.
async fn read_to_end<S>(ws: &mut WebSocketStream<S>, secs: u64) -> Option<CloseFrame>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let read = async {
        loop {
            match ws.next().await {
                Some(Ok(M::Close(c))) => return c,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(secs), read)
        .await
        .expect("the server ended the connection")
}

fn quick_linger() -> chinwag_http::Settings {
    let mut settings = chinwag_http::Settings::default();
    settings.linger.time = Duration::from_millis(100);
    settings
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_others_are_still_served() {
    let s = start_with(
        BayeuxConfig {
            ws_send_timeout: Duration::from_millis(400),
            // Neither bound may end the session first: the send timeout is under test.
            max_queue: 1_000_000,
            max_queue_bytes: 1 << 30,
            ..quick()
        },
        quick_linger(),
    )
    .await;
    let mut slow = connect_small(&s).await;
    join(&mut slow, "/flood").await;
    let mut other = connect(&s).await;
    join(&mut other, "/other").await;
    eventually("both connected", 5, || {
        s.stats.open.load(std::sync::atomic::Ordering::Relaxed) == 2
    })
    .await;
    let chunk = "x".repeat(64 * 1024);
    let mut published = 0;
    // The slow client reads nothing: its socket fills, the server's send stalls and times
    // out, and its socket is closed (the accept loop counts it gone).
    let flood = async {
        while s.stats.open.load(std::sync::atomic::Ordering::Relaxed) != 1 {
            for _ in 0..8 {
                s.server
                    .publish("/flood", &json!({ "chunk": chunk }))
                    .unwrap();
                published += 1;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), flood)
        .await
        .expect("the client that stopped reading is disconnected");
    assert!(published > 8, "the flood went on until the send stalled");
    // The other client is still served, at once.
    assert_eq!(s.server.publish("/other", &json!({"n": 1})).unwrap(), 1);
    let got = next(&mut other).await;
    assert_eq!(got[0]["data"]["n"], 1, "{got:?}");
    // And the slow one, reading again, finds its connection ended.
    read_to_end(&mut slow, 30).await;
}

#[tokio::test]
async fn a_silent_client_is_pinged_then_dropped_a_live_one_stays() {
    let s = start_with(
        BayeuxConfig {
            ws_ping_interval: Duration::from_millis(150),
            // Generous, so a live client starved of CPU for a moment still answers in time.
            ws_pong_timeout: Duration::from_secs(1),
            ..quick()
        },
        quick_linger(),
    )
    .await;
    // The live client reads all the time, so its WebSocket library answers every ping.
    let live = connect(&s).await;
    let (mut sink, mut stream) = live.split();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        let mut pings = 0;
        while let Some(Ok(m)) = stream.next().await {
            match m {
                M::Ping(_) => pings += 1,
                M::Text(t) => {
                    let _ = tx.send((pings, t.to_string()));
                }
                _ => {}
            }
        }
    });
    // The silent one never reads, so never answers.
    let mut silent = connect(&s).await;
    eventually("both connected", 5, || {
        s.stats.open.load(std::sync::atomic::Ordering::Relaxed) == 2
    })
    .await;
    eventually("the silent client is dropped", 10, || {
        s.stats.open.load(std::sync::atomic::Ordering::Relaxed) == 1
    })
    .await;
    let mut pinged = false;
    let read = async {
        while let Some(Ok(m)) = silent.next().await {
            pinged |= matches!(m, M::Ping(_));
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    assert!(pinged, "it was pinged before being dropped");
    // Several ping intervals later the live one still works.
    sink.send(M::text(json!([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket"],"id":"1"}]).to_string()))
        .await
        .unwrap();
    let (pings, text) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an answer")
        .expect("the live client is still connected");
    let v: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(v[0]["successful"], true);
    assert!(pings >= 1, "the live client was pinged too ({pings})");
    reader.abort();
}

#[tokio::test]
async fn oversized_and_non_utf8_messages_get_their_close_codes() {
    let s = start(BayeuxConfig {
        max_message_bytes: 1024,
        ..quick()
    })
    .await;
    let mut ws = connect(&s).await;
    ws.send(M::text("x".repeat(4096))).await.unwrap();
    let close = read_to_end(&mut ws, 10).await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Size, "1009: {close:?}");

    let mut ws = connect(&s).await;
    let bad = Frame::message(vec![0xffu8, 0xfe, 0x80], OpCode::Data(Data::Text), true);
    ws.send(M::Frame(bad)).await.unwrap();
    let close = read_to_end(&mut ws, 10).await.expect("a close frame");
    assert_eq!(close.code, CloseCode::Invalid, "1007: {close:?}");

    let mut ws = connect(&s).await;
    ws.send(M::binary(vec![0xffu8, 0xfe])).await.unwrap();
    let close = read_to_end(&mut ws, 10).await.expect("a close frame");
    assert_eq!(
        close.code,
        CloseCode::Invalid,
        "1007 for binary too: {close:?}"
    );

    // A message within the limit is still served.
    let mut ws = connect(&s).await;
    join(&mut ws, "/ok").await;
}
