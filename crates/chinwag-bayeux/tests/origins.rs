//! The origin rule and CORS over raw sockets, on the lean front and on the router: allowed
//! origins are echoed with credentials, same-origin and origin-less requests pass, others are
//! refused with `403::origin_denied` before anything is processed (POST, WebSocket upgrade,
//! JSONP by its `Referer`), and every answer varies on `Origin`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use chinwag_bayeux::BayeuxConfig;
use chinwag_http::Origins;
use common::{Srv, post, quick, response, start};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const HANDSHAKE: &str = r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling","callback-polling"],"id":"1"}]"#;
const EVIL: &str = "origin: https://evil.example\r\n";
const SHOP: &str = "origin: https://shop.example\r\n";

async fn shop() -> Srv {
    start(BayeuxConfig {
        origins: Origins::new(&["https://shop.example".into()]),
        ..quick()
    })
    .await
}

/// Sends `req` on `s` and reads one response.
async fn ask(s: &mut TcpStream, pending: &mut Vec<u8>, req: &str) -> (u16, String, String) {
    s.write_all(req.as_bytes()).await.unwrap();
    response(s, pending).await
}

fn assert_denied(status: u16, head: &str, body: &str) {
    assert_eq!(status, 403, "{head}{body}");
    let v: Vec<Value> = serde_json::from_str(body).unwrap();
    assert_eq!(
        v,
        vec![
            json!({"channel":"/meta/unknown","successful":false,"error":"403::origin_denied","advice":{"reconnect":"none"}})
        ]
    );
    assert!(head.contains("vary: origin"), "{head}");
    assert!(!head.contains("access-control-allow-origin"), "{head}");
}

fn chunked(extra: &str, body: &str) -> String {
    format!(
        "POST /cometd HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{extra}transfer-encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    )
}

#[tokio::test]
async fn the_front_serves_allowed_and_own_origins_and_refuses_others_unprocessed() {
    let srv = shop().await;
    let (id, browser) = srv.session().await;
    srv.post(
        json!([{"channel":"/meta/subscribe","clientId":id,"subscription":"/p"}]),
        Some(&browser),
    )
    .await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let mut p = Vec::new();
    let (status, head, body) = ask(&mut s, &mut p, &post("/handshake", EVIL, HANDSHAKE)).await;
    assert_denied(status, &head, &body);
    assert_eq!(srv.server.session_count(), 1, "no session was made");
    let publish = json!([{"channel":"/p","clientId":id,"data":{"x":1}}]).to_string();
    let (status, head, body) = ask(&mut s, &mut p, &post("", EVIL, &publish)).await;
    assert_denied(status, &head, &body);
    // The connection stays usable: an allowed origin is echoed with credentials.
    let (status, head, _) = ask(&mut s, &mut p, &post("/handshake", SHOP, HANDSHAKE)).await;
    assert_eq!(status, 200);
    assert!(head.contains("access-control-allow-origin: https://shop.example"));
    assert!(head.contains("access-control-allow-credentials: true"));
    assert!(head.contains("vary: origin"), "{head}");
    // Same origin (the Origin names the Host) and no Origin pass, without CORS headers.
    let own = "POST /cometd HTTP/1.1\r\nhost: chat.example:8080\r\norigin: http://chat.example:8080\r\ncontent-type: application/json\r\ncontent-length: ";
    let own = format!("{own}{}\r\n\r\n{HANDSHAKE}", HANDSHAKE.len());
    let (status, head, _) = ask(&mut s, &mut p, &own).await;
    assert_eq!(status, 200);
    assert!(!head.contains("access-control-allow-origin"), "{head}");
    assert!(head.contains("vary: origin"), "{head}");
    let (status, head, _) = ask(&mut s, &mut p, &post("", "", HANDSHAKE)).await;
    assert_eq!(status, 200);
    assert!(head.contains("vary: origin"), "{head}");
    let (status, head, _) = ask(&mut s, &mut p, &post("", SHOP, "[{")).await;
    assert_eq!(status, 400);
    assert!(head.contains("vary: origin"), "errors vary too: {head}");
    assert_eq!(srv.server.session_count(), 4);
    // The refused publish was never delivered.
    let connect = json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling","advice":{"timeout":0}}]);
    let r = srv.post(connect, Some(&browser)).await;
    assert_eq!(r.len(), 1, "only the connect reply: {r:?}");
}

#[tokio::test]
async fn preflights_allow_the_bayeux_methods_and_headers_on_front_and_router() {
    let srv = shop().await;
    let preflight = |origin: &str| {
        format!(
            "OPTIONS /cometd/connect HTTP/1.1\r\nhost: x\r\norigin: {origin}\r\naccess-control-request-method: POST\r\n\r\n"
        )
    };
    let check = |status: u16, head: &str| {
        assert_eq!(status, 204);
        assert!(head.contains("access-control-allow-origin: https://shop.example"));
        assert!(head.contains("access-control-allow-credentials: true"));
        assert!(head.contains("access-control-allow-methods: get, post, options"));
        let allowed = head
            .lines()
            .find_map(|l| l.strip_prefix("access-control-allow-headers:"))
            .unwrap();
        for h in ["apikey", "authorization", "content-type"] {
            assert!(allowed.contains(h), "{h} in {allowed}");
        }
        assert!(head.contains("vary: origin"), "{head}");
    };
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let mut p = Vec::new();
    let (status, head, _) = ask(&mut s, &mut p, &preflight("https://shop.example")).await;
    check(status, &head);
    let (status, head, _) = ask(&mut s, &mut p, &preflight("https://evil.example")).await;
    assert_eq!(status, 204);
    assert!(!head.contains("access-control-allow-origin"), "{head}");
    assert!(head.contains("vary: origin"), "{head}");
    // A chunked POST hands the connection to the router, which answers the next preflight.
    let (status, _, _) = ask(&mut s, &mut p, &chunked(SHOP, HANDSHAKE)).await;
    assert_eq!(status, 200);
    let (status, head, _) = ask(&mut s, &mut p, &preflight("https://shop.example")).await;
    check(status, &head);
    let put = "PUT /cometd HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n";
    let (status, head, _) = ask(&mut s, &mut p, put).await;
    assert_eq!(status, 405);
    assert!(head.contains("vary: origin"), "{head}");
}

#[tokio::test]
async fn the_router_refuses_other_origins_on_posts_upgrades_and_jsonp() {
    let srv = shop().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let mut p = Vec::new();
    let (status, head, body) = ask(&mut s, &mut p, &chunked(EVIL, HANDSHAKE)).await;
    assert_denied(status, &head, &body);
    let (status, head, _) = ask(&mut s, &mut p, &chunked(SHOP, HANDSHAKE)).await;
    assert_eq!(status, 200);
    assert!(head.contains("access-control-allow-origin: https://shop.example"));
    assert_eq!(srv.server.session_count(), 1);

    // WebSocket upgrades.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let ws_url = srv.url.replace("http://", "ws://");
    let upgrade = |origin: &'static str| {
        let mut req = ws_url.as_str().into_client_request().unwrap();
        req.headers_mut().insert("origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    match upgrade("https://evil.example").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), 403);
            assert!(
                String::from_utf8_lossy(r.body().as_deref().unwrap_or_default())
                    .contains("403::origin_denied")
            );
        }
        other => panic!("upgrade from another origin: {:?}", other.map(|_| ())),
    }
    assert!(upgrade("https://shop.example").await.is_ok());

    // JSONP: no Origin, so its Referer's origin is judged; the refusal is a script.
    let jsonp = |referer: &str| {
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("jsonp", "cb")
            .append_pair("message", HANDSHAKE)
            .finish();
        srv.http
            .get(format!("{}?{q}", srv.url))
            .header("referer", referer)
            .send()
    };
    let r = jsonp("https://evil.example/page").await.unwrap();
    assert_eq!(r.status(), 200, "a script tag cannot read statuses");
    assert_eq!(r.headers()["vary"], "Origin");
    let body = r.text().await.unwrap();
    let json = body
        .strip_prefix("/**/cb(")
        .unwrap()
        .strip_suffix(");")
        .unwrap();
    let v: Vec<Value> = serde_json::from_str(json).unwrap();
    assert_eq!(v[0]["error"], "403::origin_denied");
    assert_eq!(v[0]["advice"]["reconnect"], "none");
    assert_eq!(srv.server.session_count(), 1, "not processed");
    let body = jsonp("https://shop.example/page")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains(r#""successful":true"#), "{body}");
    assert_eq!(srv.server.session_count(), 2);
}
