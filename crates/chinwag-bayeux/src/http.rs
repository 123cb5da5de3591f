//! The HTTP face of the server: one axum router at the mount path (plus the `/handshake`,
//! `/connect`, `/disconnect` suffixes CometD appends) serving long-polling POSTs, JSONP GETs
//! and WebSocket upgrades, with the browser cookie and CORS.

use crate::config::Transport;
use crate::jsonp;
use crate::message::{Message, Reply, join_array, parse_batch};
use crate::process::{Request, finish_connect, hold_connect};
use crate::server::BayeuxServer;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, State, ws::WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

impl BayeuxServer {
    /// The router serving Bayeux at `path` (e.g. `/cometd`).
    pub fn router(&self, path: &str) -> Router {
        let path = path.trim_end_matches('/');
        Router::new()
            .route(path, axum::routing::any(entry))
            .route(&format!("{path}/"), axum::routing::any(entry))
            .route(&format!("{path}/{{*rest}}"), axum::routing::any(entry))
            .with_state(self.clone())
    }
}

async fn entry(State(server): State<BayeuxServer>, req: axum::extract::Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let cors = cors_headers(&server, &parts.headers);
    if parts.method == Method::OPTIONS {
        return (StatusCode::NO_CONTENT, cors).into_response();
    }
    let upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade && server.config().websocket {
        return match Box::pin(WebSocketUpgrade::from_request_parts(&mut parts, &())).await {
            Ok(ws) => crate::ws::upgrade(server, ws),
            Err(rejection) => rejection.into_response(),
        };
    }
    let browser = browser_cookie(&server, &parts.headers);
    // Keep nothing of the request but what is needed while a connect may be held.
    let (method, headers, query) = (
        parts.method,
        parts.headers,
        parts.uri.query().map(str::to_owned),
    );
    let mut response = if method == Method::POST {
        let body = Box::pin(read_body(&server, body, &headers)).await;
        drop(headers);
        match body {
            Ok(msgs) => {
                let (status, json, new_browser) =
                    serve(&server, Transport::LongPolling, browser, msgs).await;
                let mut r = json_response(status, json);
                set_cookie(&server, &mut r, new_browser);
                r
            }
            Err(advice) => json_response(StatusCode::BAD_REQUEST, bad_request(&advice)),
        }
    } else if method == Method::GET {
        drop(headers);
        callback_polling(&server, query.as_deref().unwrap_or(""), browser).await
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    };
    response.headers_mut().extend(cors);
    response
}

/// Processes a batch and, for a connect, holds it; returns the JSON array to send.
async fn serve(
    server: &BayeuxServer,
    transport: Transport,
    browser: Option<Arc<str>>,
    msgs: Vec<Message>,
) -> (StatusCode, String, Option<Arc<str>>) {
    let req = Request { transport, browser };
    // Boxed: the processing state machine is large and must not live on inside the future
    // of a held connect (tens of thousands of those are parked at once).
    let mut outcome = Box::pin(server.process(msgs, &req)).await;
    let mut parts = std::mem::take(&mut outcome.replies);
    if let Some(mut plan) = outcome.connect.take() {
        hold_connect(server, &mut plan, &req).await;
        parts.extend(finish_connect(server, plan));
    }
    (StatusCode::OK, join_array(&parts), outcome.new_browser)
}

fn bad_request(advice: &str) -> String {
    let reply = Reply::to("/meta/unknown", None).fail(
        format!("400::{advice}"),
        Some(json!({"reconnect": "retry", "interval": 0})),
    );
    join_array(&[reply.encode()])
}

async fn read_body(
    server: &BayeuxServer,
    body: Body,
    headers: &HeaderMap,
) -> Result<Vec<Message>, String> {
    let max = server.config().max_message_bytes;
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| format!("request body larger than {max} bytes"))?;
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return parse_batch(&bytes).map_err(|e| format!("message_invalid: {e}"));
    }
    let mut msgs = Vec::new();
    for (k, v) in form_urlencoded::parse(&bytes) {
        if k == "message" {
            msgs.extend(parse_batch(v.as_bytes()).map_err(|e| format!("message_invalid: {e}"))?);
        }
    }
    if msgs.is_empty() {
        return Err("message_missing".into());
    }
    Ok(msgs)
}

async fn callback_polling(
    server: &BayeuxServer,
    query: &str,
    browser: Option<Arc<str>>,
) -> Response {
    if !server.config().callback_polling {
        return (StatusCode::BAD_REQUEST, "callback-polling is disabled").into_response();
    }
    let mut callback = String::from("jsonpcallback");
    let mut msgs = Vec::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "jsonp" => callback = v.into_owned(),
            "message" => match parse_batch(v.as_bytes()) {
                Ok(m) => msgs.extend(m),
                Err(e) => {
                    return script_response(
                        &callback,
                        bad_request(&format!("message_invalid: {e}")),
                    );
                }
            },
            _ => {}
        }
    }
    if !jsonp::valid_callback(&callback) {
        return (StatusCode::BAD_REQUEST, "invalid jsonp callback name").into_response();
    }
    if msgs.is_empty() {
        return script_response(&callback, bad_request("message_missing"));
    }
    let (_, json, new_browser) = serve(server, Transport::CallbackPolling, browser, msgs).await;
    let mut r = script_response(&callback, json);
    set_cookie(server, &mut r, new_browser);
    r
}

fn script_response(callback: &str, json: String) -> Response {
    // Always 200: a script tag cannot read the status.
    let mut r = (StatusCode::OK, jsonp::script(callback, &json)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript;charset=UTF-8"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn json_response(status: StatusCode, json: String) -> Response {
    let mut r = (status, json).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn browser_cookie(server: &BayeuxServer, headers: &HeaderMap) -> Option<Arc<str>> {
    let name = &server.config().cookie.name;
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| k == name && !v.is_empty() && v.len() <= 64)
        .map(|(_, v)| Arc::from(v))
}

fn set_cookie(server: &BayeuxServer, r: &mut Response, browser: Option<Arc<str>>) {
    let Some(b) = browser else { return };
    let c = &server.config().cookie;
    let mut v = format!("{}={b}; Path=/; HttpOnly", c.name);
    if c.cross_site {
        v.push_str("; SameSite=None; Secure; Partitioned");
    } else if c.secure {
        v.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&v) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn cors_headers(server: &BayeuxServer, headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    let Some(origin) = headers.get(header::ORIGIN) else {
        return out;
    };
    let allowed = &server.config().allowed_origins;
    let listed = origin
        .to_str()
        .is_ok_and(|o| allowed.iter().any(|a| a == o));
    if listed {
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        out.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    } else if allowed.iter().any(|a| a == "*") {
        out.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    } else {
        return out;
    }
    out.insert(header::VARY, HeaderValue::from_static("Origin"));
    out.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    out.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, x-requested-with"),
    );
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    out
}
