//! What a service handler learns of the request, on every transport over real sockets: the
//! client address (the forwarded one only behind a trusted proxy), the `Origin` (JSONP: its
//! `Referer`'s) and the forwarded headers an application asked for.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use chinwag_bayeux::BayeuxConfig;
use chinwag_http::{Origins, TrustedProxies};
use common::{Srv, quick, response, start};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as M;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const HANDSHAKE: &str = r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling","callback-polling","websocket"],"id":"1"}]"#;
const HEADERS: [(&str, &str); 3] = [
    ("apikey", "K1"),
    ("authorization", "Bearer T"),
    ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
];

async fn server(trusted: bool) -> Srv {
    let trusted = if trusted {
        TrustedProxies::parse(&["127.0.0.0/8".into()]).unwrap()
    } else {
        TrustedProxies::default()
    };
    start(BayeuxConfig {
        origins: Origins::new(&["https://shop.example".into()]),
        forward_headers: vec!["apikey".into(), "authorization".into()],
        trusted_proxies: Arc::new(trusted),
        ..quick()
    })
    .await
}

/// A publish to `/service/context` then a connect (answered at once with the delivery).
fn ask(id: &str, connection: &str) -> String {
    json!([{"channel":"/service/context","clientId":id,"data":{}},
           {"channel":"/meta/connect","clientId":id,"connectionType":connection,"advice":{"timeout":0}}])
    .to_string()
}

/// The data of the `/service/context` delivery among `msgs`.
fn seen(msgs: &[Value]) -> Value {
    msgs.iter()
        .find(|m| m["channel"] == "/service/context" && m.get("data").is_some())
        .unwrap_or_else(|| panic!("no delivery in {msgs:?}"))["data"]
        .clone()
}

fn client_id(v: &[Value]) -> String {
    v[0]["clientId"].as_str().unwrap().to_owned()
}

fn expected(remote: &str, origin: &str) -> Value {
    json!({"remote": remote, "origin": origin, "apikey": "K1", "authorization": "Bearer T"})
}

/// Long-polling POST served by the front (with a length) or the router (chunked).
async fn long_polling(srv: &Srv, chunked: bool) -> Value {
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let mut pending = Vec::new();
    let mut exchange = async |body: &str| {
        let mut head = String::from(
            "POST /cometd HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\norigin: https://shop.example\r\n",
        );
        for (k, v) in HEADERS {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let req = if chunked {
            format!(
                "{head}transfer-encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                body.len()
            )
        } else {
            format!("{head}content-length: {}\r\n\r\n{body}", body.len())
        };
        s.write_all(req.as_bytes()).await.unwrap();
        let (status, _, body) = response(&mut s, &mut pending).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Vec<Value>>(&body).unwrap()
    };
    let id = client_id(&exchange(HANDSHAKE).await);
    seen(&exchange(&ask(&id, "long-polling")).await)
}

async fn jsonp(srv: &Srv) -> Value {
    let get = async |msg: &str| {
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("jsonp", "cb")
            .append_pair("message", msg)
            .finish();
        let mut req = srv
            .http
            .get(format!("{}?{q}", srv.url))
            .header("referer", "https://shop.example/page");
        for (k, v) in HEADERS {
            req = req.header(k, v);
        }
        let body = req.send().await.unwrap().text().await.unwrap();
        let json = body
            .strip_prefix("/**/cb(")
            .unwrap()
            .strip_suffix(");")
            .unwrap();
        serde_json::from_str::<Vec<Value>>(json).unwrap()
    };
    let id = client_id(&get(HANDSHAKE).await);
    seen(&get(&ask(&id, "callback-polling")).await)
}

async fn websocket(srv: &Srv) -> Value {
    let mut req = srv
        .url
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    for (k, v) in HEADERS
        .into_iter()
        .chain([("origin", "https://shop.example")])
    {
        req.headers_mut().insert(k, v.parse().unwrap());
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut all = Vec::new();
    let next = async |ws: &mut tokio_tungstenite::WebSocketStream<_>| loop {
        if let M::Text(t) = ws.next().await.unwrap().unwrap() {
            return serde_json::from_str::<Vec<Value>>(&t).unwrap();
        }
    };
    ws.send(M::text(HANDSHAKE)).await.unwrap();
    let id = client_id(&next(&mut ws).await);
    ws.send(M::text(ask(&id, "websocket"))).await.unwrap();
    // Headers of the upgrade request serve every message of the socket.
    while !all
        .iter()
        .any(|m: &Value| m["channel"] == "/service/context" && m.get("data").is_some())
    {
        all.extend(next(&mut ws).await);
    }
    seen(&all)
}

#[tokio::test]
async fn behind_a_trusted_proxy_handlers_see_the_forwarded_client_on_every_transport() {
    let srv = server(true).await;
    let want = expected("198.51.100.7", "https://shop.example");
    assert_eq!(long_polling(&srv, false).await, want, "front");
    assert_eq!(long_polling(&srv, true).await, want, "router");
    assert_eq!(jsonp(&srv).await, want, "jsonp (origin of the Referer)");
    assert_eq!(websocket(&srv).await, want, "websocket");
}

#[tokio::test]
async fn without_trusted_proxies_the_forwarded_address_is_ignored() {
    let srv = server(false).await;
    let want = expected("127.0.0.1", "https://shop.example");
    assert_eq!(long_polling(&srv, false).await, want, "front");
    assert_eq!(long_polling(&srv, true).await, want, "router");
    assert_eq!(jsonp(&srv).await, want, "jsonp");
    assert_eq!(websocket(&srv).await, want, "websocket");
}
