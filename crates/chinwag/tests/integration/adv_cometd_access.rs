//! Who may start a chat over CometD, over real long-polling and WebSocket connections: a
//! service's `apikey` (header, or `apikey` in the `requestChat` data) and `basic_auth`
//! (`Authorization` header, or `auth` in the data) are required, and a refusal creates no
//! chat; each service's own `cors_origins` decide for its `requestChat` (error 403), while an
//! origin no service lists is refused by the transport itself (`403::origin_denied`, upgrade
//! 403) before any session exists.

use crate::adv_cometd::*;
use crate::common::*;
use base64::Engine;
use serde_json::{Value, json};

const KEYED: &str = r#"
[services.keyed]
apikey = "k3y-s3cret"

[services.basic]
basic_auth = { username = "widget", password = "pa55" }
"#;

fn channel(service: &str) -> String {
    format!("/service/chatV2/{service}")
}

/// A long-polling `requestChat` on `service` with `headers` and `extra` data; returns the
/// first notification.
async fn lp_request_chat(
    server: &Server,
    service: &str,
    headers: Headers,
    extra: Value,
) -> R<Value> {
    let lp = Lp::start(&cometd_url(server), headers).await?;
    let mut data = json!({"operation": "requestChat", "nickname": "Kim"});
    if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    let r = bounded("publish", 10, lp.publish(&channel(service), data)).await?;
    assert_eq!(
        r["successful"], true,
        "the publish itself is acknowledged: {r}"
    );
    let task = lp.connect_forever();
    let note = until("the requestChat answer", 10, || lp.notes().first().cloned()).await;
    task.abort();
    note
}

/// The same over WebSocket.
async fn ws_request_chat(
    server: &Server,
    service: &str,
    headers: Headers,
    extra: Value,
) -> R<Value> {
    let mut ws = Ws::open_ok(server, &headers, None).await?;
    let h = ws.handshake().await?;
    assert_eq!(h["successful"], true, "{h}");
    let mut data = json!({"operation": "requestChat", "nickname": "Kim"});
    if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    let r = ws.publish(&channel(service), data).await?;
    assert_eq!(r["successful"], true, "{r}");
    ws.note("the requestChat answer", 10, |_| true).await
}

fn assert_chat(n: &Value) {
    assert_eq!(n["statusCode"], 0, "{n}");
    assert!(
        n["secureKey"].as_str().is_some_and(|k| !k.is_empty()),
        "{n}"
    );
    assert_eq!(n["messages"][0]["type"], "ParticipantJoined", "{n}");
}

fn assert_refused(n: &Value, code: u64) {
    assert_eq!(error_code(n), Some(code), "{n}");
    assert!(n.get("secureKey").is_none_or(Value::is_null), "{n}");
    assert!(n["messages"].as_array().is_none_or(Vec::is_empty), "{n}");
}

#[tokio::test]
async fn an_apikey_service_refuses_request_chat_without_its_key() -> R {
    let server = Server::start(KEYED).await?;
    let key = || vec![("apikey", "k3y-s3cret".to_owned())];
    let wrong = || vec![("apikey", "guess".to_owned())];
    // Refused: no key, a wrong header, a wrong key in the data; on both transports.
    assert_refused(
        &lp_request_chat(&server, "keyed", Vec::new(), json!({})).await?,
        401,
    );
    assert_refused(
        &lp_request_chat(&server, "keyed", wrong(), json!({})).await?,
        401,
    );
    let bad = json!({"apikey": "guess"});
    assert_refused(
        &lp_request_chat(&server, "keyed", Vec::new(), bad.clone()).await?,
        401,
    );
    assert_refused(
        &ws_request_chat(&server, "keyed", Vec::new(), json!({})).await?,
        401,
    );
    assert_refused(
        &ws_request_chat(&server, "keyed", Vec::new(), bad).await?,
        401,
    );
    assert_eq!(open_sessions(&server).await?, 0, "no chat was created");

    // Accepted: the header (long-polling), the data field (both), the header on the upgrade.
    assert_chat(&lp_request_chat(&server, "keyed", key(), json!({})).await?);
    let good = json!({"apikey": "k3y-s3cret"});
    assert_chat(&lp_request_chat(&server, "keyed", Vec::new(), good.clone()).await?);
    assert_chat(&ws_request_chat(&server, "keyed", Vec::new(), good).await?);
    assert_chat(&ws_request_chat(&server, "keyed", key(), json!({})).await?);
    assert_eq!(open_sessions(&server).await?, 4);
    Ok(())
}

#[tokio::test]
async fn a_basic_auth_service_refuses_request_chat_without_its_credentials() -> R {
    let server = Server::start(KEYED).await?;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let header = |s: &str| vec![("authorization", format!("Basic {}", b64(s)))];
    for (headers, extra) in [
        (Vec::new(), json!({})),
        (header("widget:wrong"), json!({})),
        (
            Vec::new(),
            json!({"auth": {"username": "widget", "password": "x"}}),
        ),
        (Vec::new(), json!({"auth": {"encoded": b64("nobody:pa55")}})),
        // The apikey of another service opens nothing here.
        (vec![("apikey", "k3y-s3cret".to_owned())], json!({})),
    ] {
        let n = lp_request_chat(&server, "basic", headers.clone(), extra.clone()).await?;
        assert_refused(&n, 401);
        let n = ws_request_chat(&server, "basic", headers, extra).await?;
        assert_refused(&n, 401);
    }
    assert_eq!(open_sessions(&server).await?, 0, "no chat was created");

    assert_chat(&lp_request_chat(&server, "basic", header("widget:pa55"), json!({})).await?);
    assert_chat(&ws_request_chat(&server, "basic", header("widget:pa55"), json!({})).await?);
    let open = json!({"auth": {"username": "widget", "password": "pa55"}});
    assert_chat(&lp_request_chat(&server, "basic", Vec::new(), open).await?);
    let encoded = json!({"auth": {"encoded": b64("widget:pa55")}});
    assert_chat(&ws_request_chat(&server, "basic", Vec::new(), encoded).await?);
    assert_eq!(open_sessions(&server).await?, 4);
    Ok(())
}

const ORIGINS: &str = r#"
[services.shop]
cors_origins = ["https://a.example"]

[services.other]
cors_origins = ["https://c.example"]
"#;

#[tokio::test]
async fn each_service_checks_its_own_origins_on_request_chat() -> R {
    let server = Server::start(ORIGINS).await?;
    let a = || vec![("origin", "https://a.example".to_owned())];
    // Origin A passes the transport (some service lists it) but not the service that does
    // not list it.
    assert_refused(
        &lp_request_chat(&server, "other", a(), json!({})).await?,
        403,
    );
    assert_refused(
        &ws_request_chat(&server, "other", a(), json!({})).await?,
        403,
    );
    assert_eq!(open_sessions(&server).await?, 0, "no chat was created");
    assert_chat(&lp_request_chat(&server, "shop", a(), json!({})).await?);
    assert_chat(&ws_request_chat(&server, "shop", a(), json!({})).await?);
    // The server's own origin, and no Origin at all, are served on both services.
    let own = || vec![("origin", server.base.clone())];
    assert_chat(&lp_request_chat(&server, "other", own(), json!({})).await?);
    assert_chat(&ws_request_chat(&server, "other", Vec::new(), json!({})).await?);
    assert_eq!(open_sessions(&server).await?, 4);

    // Long-polling answers to a listed origin name it, with credentials.
    let r = reqwest::Client::new()
        .post(cometd_url(&server))
        .header("origin", "https://a.example")
        .json(&json!([{"channel": "/meta/handshake", "version": "1.0",
                        "supportedConnectionTypes": ["long-polling"]}]))
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://a.example"
    );
    assert_eq!(r.headers()["access-control-allow-credentials"], "true");
    Ok(())
}

#[tokio::test]
async fn an_origin_no_service_lists_is_refused_by_the_transport() -> R {
    let server = Server::start(ORIGINS).await?;
    let b = || vec![("origin", "https://b.example".to_owned())];
    // A handshake, and a publish naming any client id: HTTP 403 before anything runs.
    let mut lp = Lp::new(&cometd_url(&server), b())?;
    let hs = json!([{"channel": "/meta/handshake", "version": "1.0",
                     "supportedConnectionTypes": ["long-polling"]}]);
    let publish = json!([{"channel": channel("shop"), "clientId": "0123456789abcdef",
                          "data": {"operation": "requestChat", "nickname": "x"}}]);
    for body in [&hs, &publish] {
        let (status, reply) = lp.post(body).await?;
        assert_eq!(status, 403, "{reply:?}");
        assert_eq!(reply[0]["error"], "403::origin_denied", "{reply:?}");
        assert_eq!(reply[0]["successful"], false, "{reply:?}");
    }
    let h = lp.try_handshake().await?;
    assert_eq!(h["error"], "403::origin_denied", "{h}");
    assert!(lp.client_id.is_empty());
    // The WebSocket upgrade is refused with 403.
    match Ws::open(&server, &b(), None).await? {
        Err(Refused::Status(s)) => assert_eq!(s, 403),
        Ok(_) => return Err("the upgrade from an unlisted origin was accepted".into()),
    }
    assert_eq!(open_sessions(&server).await?, 0, "no chat was created");
    Ok(())
}
