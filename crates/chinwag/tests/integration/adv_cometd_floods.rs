//! Floods over CometD against the real binary, with client addresses simulated through
//! `X-Forwarded-For` behind a trusted proxy (loopback): handshakes past
//! `cometd.handshakes_per_ip` get `429::handshake_rate_limited` with an `interval` advice on
//! long-polling and WebSocket while another address still handshakes; `requestChat` past
//! `new_chats_per_ip` gets an error notification with code 240 while another address still
//! starts chats.

use crate::adv_cometd::*;
use crate::common::*;
use serde_json::{Value, json};

/// Almost no refill during a test: a bucket is its burst.
const HANDSHAKES: &str = r#"
[server]
trusted_proxies = ["127.0.0.1"]

[cometd]
handshakes_per_ip = { per_second = 0.001, burst = 3 }
"#;

const NEW_CHATS: &str = r#"
[server]
trusted_proxies = ["127.0.0.1"]

[services.customer-support.limits]
new_chats_per_ip = { per_second = 0.001, burst = 2 }
"#;

fn from(addr: &str) -> Headers {
    vec![("x-forwarded-for", addr.to_owned())]
}

fn assert_rate_limited(h: &Value) {
    assert_eq!(h["successful"], false, "{h}");
    assert_eq!(h["error"], "429::handshake_rate_limited", "{h}");
    assert_eq!(h["advice"]["reconnect"], "handshake", "{h}");
    assert!(
        h["advice"]["interval"].as_u64().is_some_and(|ms| ms > 0),
        "an interval to wait: {h}"
    );
}

async fn lp_handshake(server: &Server, headers: Headers) -> R<Value> {
    Lp::new(&cometd_url(server), headers)?.try_handshake().await
}

async fn ws_handshake(server: &Server, headers: Headers) -> R<Value> {
    Ws::open_ok(server, &headers, None).await?.handshake().await
}

#[tokio::test]
async fn handshakes_past_the_rate_of_one_address_are_refused_others_go_on() -> R {
    let server = Server::start(HANDSHAKES).await?;
    let flooder = "203.0.113.7";
    // The burst, over both transports, then refusals on both.
    for h in [
        lp_handshake(&server, from(flooder)).await?,
        ws_handshake(&server, from(flooder)).await?,
        lp_handshake(&server, from(flooder)).await?,
    ] {
        assert_eq!(h["successful"], true, "{h}");
    }
    for _ in 0..3 {
        assert_rate_limited(&lp_handshake(&server, from(flooder)).await?);
        assert_rate_limited(&ws_handshake(&server, from(flooder)).await?);
    }
    // Another address (and the proxy itself, without X-Forwarded-For) still handshakes.
    let h = lp_handshake(&server, from("198.51.100.20")).await?;
    assert_eq!(h["successful"], true, "{h}");
    let h = ws_handshake(&server, from("198.51.100.21")).await?;
    assert_eq!(h["successful"], true, "{h}");
    let h = lp_handshake(&server, Vec::new()).await?;
    assert_eq!(h["successful"], true, "{h}");
    Ok(())
}

/// A new CometD session from `addr` asks for a chat; returns the answer.
async fn request_chat_from(server: &Server, addr: &str) -> R<Value> {
    let lp = Lp::start(&cometd_url(server), from(addr)).await?;
    let task = lp.connect_forever();
    let data = json!({"operation": "requestChat", "nickname": "Flo"});
    let r = bounded("publish", 10, lp.publish(CHANNEL, data)).await?;
    assert_eq!(r["successful"], true, "{r}");
    let note = until("the requestChat answer", 10, || lp.notes().first().cloned()).await;
    task.abort();
    note
}

#[tokio::test]
async fn request_chat_past_new_chats_per_ip_gets_error_240() -> R {
    let server = Server::start(NEW_CHATS).await?;
    let flooder = "203.0.113.9";
    for _ in 0..2 {
        let n = request_chat_from(&server, flooder).await?;
        assert_eq!(n["statusCode"], 0, "{n}");
    }
    // Over WebSocket too: the limit is the address's, whatever the transport.
    let mut ws = Ws::open_ok(&server, &from(flooder), None).await?;
    assert_eq!(ws.handshake().await?["successful"], true);
    let data = json!({"operation": "requestChat", "nickname": "Flo"});
    assert_eq!(ws.publish(CHANNEL, data).await?["successful"], true);
    let n = ws.note("the refusal", 10, |_| true).await?;
    assert_eq!(error_code(&n), Some(240), "{n}");
    let n = request_chat_from(&server, flooder).await?;
    assert_eq!(error_code(&n), Some(240), "{n}");
    assert_eq!(open_sessions(&server).await?, 2, "no chat beyond the rate");
    let n = request_chat_from(&server, "198.51.100.30").await?;
    assert_eq!(
        n["statusCode"], 0,
        "another address still starts a chat: {n}"
    );
    assert_eq!(open_sessions(&server).await?, 3);
    Ok(())
}
