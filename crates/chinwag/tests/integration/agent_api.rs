//! The agent API's errors over the real server: every failure a client can cause, from the
//! router (path, method), the request (query, path segment, JSON, body size, body deadline)
//! or the event stream's handshake, answers `{"error":{"code","message"}}` as JSON with its
//! own status, never one of the framework's plain-text rejections.

use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "demo-agent-token";

/// Status, `error.code`, and headers of an answer, after checking it is the JSON envelope.
async fn envelope(r: reqwest::Response) -> R<(u16, String, reqwest::header::HeaderMap)> {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let ctype = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(ctype.starts_with("application/json"), "{status} {ctype}");
    let v: Value = r.json().await?;
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    let code = v["error"]["code"]
        .as_str()
        .ok_or_else(|| format!("no error code in {v}"))?;
    Ok((status, code.to_owned(), headers))
}

async fn call(server: &Server, method: Method, path: &str, body: Option<&str>) -> R<(u16, String)> {
    let mut rb = client()
        .request(method, format!("{}/agent/v1{path}", server.base))
        .bearer_auth(TOKEN);
    if let Some(b) = body {
        rb = rb
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    let (s, code, _) = envelope(rb.send().await?).await?;
    Ok((s, code))
}

#[tokio::test]
async fn routing_query_path_and_json_errors_are_in_the_envelope() -> R {
    let server = Server::start("").await?;
    let base = format!("{}/agent/v1", server.base);
    // Wrong method on a known path: 405 with the methods that are allowed.
    for (method, path, allow) in [
        (Method::DELETE, "/me", "GET"),
        (Method::GET, "/login", "POST"),
        (Method::POST, "/events", "GET"),
        (Method::PATCH, "/chats/X/messages", "POST"),
    ] {
        let r = client()
            .request(method.clone(), format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await?;
        let (s, code, headers) = envelope(r).await?;
        assert_eq!(
            (s, code.as_str()),
            (405, "method_not_allowed"),
            "{method} {path}"
        );
        let allowed = headers.get("allow").map(|v| v.to_str()).transpose()?;
        assert!(
            allowed.is_some_and(|a| a.split(',').any(|m| m.trim() == allow)),
            "{method} {path}: Allow {allowed:?}"
        );
    }
    // Unknown paths, including the API's root with and without its slash.
    for path in ["", "/", "/nope", "/chats/X/frobnicate"] {
        let (s, code) = call(&server, Method::GET, path, None).await?;
        assert_eq!((s, code.as_str()), (404, "not_found"), "{path:?}");
    }
    // A query or path segment that does not parse.
    for path in ["/chats/X?from=abc", "/chats/X?from=-1", "/chats/%FF"] {
        let (s, code) = call(&server, Method::GET, path, None).await?;
        assert_eq!((s, code.as_str()), (400, "bad_request"), "{path}");
    }
    // Malformed JSON, wrong field types, unknown fields.
    for body in [
        "{ready: yes",
        "[1]",
        "{\"ready\": \"yes\"}",
        "{\"ready\": true, \"x\": 1}",
    ] {
        let (s, code) = call(&server, Method::PUT, "/state", Some(body)).await?;
        assert_eq!((s, code.as_str()), (400, "bad_request"), "{body}");
    }
    // The token is checked before the body is read.
    let r = client()
        .put(format!("{base}/state"))
        .bearer_auth("wrong")
        .body("{not json")
        .send()
        .await?;
    let (s, code, _) = envelope(r).await?;
    assert_eq!((s, code.as_str()), (401, "unauthorized"));
    Ok(())
}

#[tokio::test]
async fn events_without_a_websocket_handshake_is_a_400() -> R {
    let server = Server::start("").await?;
    let url = format!("{}/agent/v1/events", server.base);
    let (s, code, _) = envelope(client().get(&url).bearer_auth(TOKEN).send().await?).await?;
    assert_eq!((s, code.as_str()), (400, "bad_request"));
    let r = client().get(format!("{url}?token={TOKEN}")).send().await?;
    let (s, code, _) = envelope(r).await?;
    assert_eq!((s, code.as_str()), (400, "bad_request"));
    // A bad token is a 401 first, with or without a handshake.
    let (s, code, _) = envelope(client().get(&url).send().await?).await?;
    assert_eq!((s, code.as_str()), (401, "unauthorized"));
    match tokio_tungstenite::connect_async(server.ws_url("wrong")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status().as_u16(), 401);
            let body: Value = serde_json::from_slice(r.body().as_deref().unwrap_or_default())?;
            assert_eq!(body["error"]["code"], "unauthorized", "{body}");
        }
        other => panic!("expected a 401 answer, got {other:?}"),
    }
    // With a good token the handshake still works.
    let (ws, _) = tokio_tungstenite::connect_async(server.ws_url(TOKEN)).await?;
    drop(ws);
    Ok(())
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused_with_413() -> R {
    let server = Server::start("").await?;
    let agent = Agent::new(&server, TOKEN);
    let (s, _) = agent.req(Method::POST, "/login", None).await?;
    assert_eq!(s, 200);
    // Just under the limit the body is read and obeyed.
    let under = format!("{{\"ready\": true}}{}", " ".repeat(60 * 1024));
    let r = client()
        .put(format!("{}/state", agent.base))
        .bearer_auth(TOKEN)
        .body(under)
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().await?["ready"], true);
    let over = json!({"text": "a".repeat(70 * 1024)}).to_string();
    for path in ["/chats/X/messages", "/chats/X/notices"] {
        let (s, code) = call(&server, Method::POST, path, Some(&over)).await?;
        assert_eq!((s, code.as_str()), (413, "too_large"), "{path}");
    }
    let (s, code) = call(&server, Method::PUT, "/state", Some(&over)).await?;
    assert_eq!((s, code.as_str()), (413, "too_large"));
    Ok(())
}

/// Sends `head` and `body` on a fresh connection and reads the answer until the server
/// closes or 60 s pass: (status, JSON body).
async fn raw(server: &Server, head: &str, body: &[u8]) -> R<(u16, Value)> {
    let addr = server.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut got)).await??;
    let text = String::from_utf8_lossy(&got);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status line in {text:?}"))?;
    let (_, json) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no body in {text:?}"))?;
    Ok((status, serde_json::from_str(json)?))
}

#[tokio::test]
async fn a_chunked_body_is_refused_once_it_passes_the_limit() -> R {
    let server = Server::start("").await?;
    let head = format!(
        "POST /agent/v1/chats/X/messages HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    // 80 KiB in chunks and no last chunk: only a limit enforced while reading can answer
    // (reading the whole body first would wait for the body deadline instead).
    let mut body = Vec::new();
    body.extend_from_slice(b"9\r\n{\"text\":\"\r\n");
    for _ in 0..20 {
        body.extend_from_slice(format!("{:x}\r\n", 4096).as_bytes());
        body.extend_from_slice(&[b'a'; 4096]);
        body.extend_from_slice(b"\r\n");
    }
    let (s, v) = raw(&server, &head, &body).await?;
    assert_eq!((s, &v["error"]["code"]), (413, &json!("too_large")), "{v}");
    Ok(())
}

/// With a body deadline of 2 s (30 s by default).
#[tokio::test]
async fn a_stalled_body_gets_408_in_the_envelope() -> R {
    let server = Server::start("[server]\nbody_timeout_secs = 2\n").await?;
    let head = format!(
        "PUT /agent/v1/state HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n"
    );
    let (s, v) = raw(&server, &head, b"{\"ready\":").await?;
    assert_eq!((s, &v["error"]["code"]), (408, &json!("timeout")), "{v}");
    Ok(())
}
