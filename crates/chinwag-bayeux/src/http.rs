//! The HTTP face of the server: one axum router at the mount path (plus the `/handshake`,
//! `/connect`, `/disconnect` suffixes CometD appends) serving long-polling POSTs, JSONP GETs
//! and WebSocket upgrades, with the browser cookie and CORS.

use crate::config::Transport;
use crate::jsonp;
use crate::message::{Message, Part, Reply, join_array, parse_batch};
use crate::process::{Request, finish_connect, hold_connect};
use crate::server::BayeuxServer;
use axum::Router;
use axum::extract::{FromRequestParts, State, ws::WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
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
    let origin = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    let cors = to_header_map(cors(&server, origin));
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
    let cookies = parts.headers.get_all(header::COOKIE);
    let browser = browser_cookie(&server, cookies.iter().filter_map(|v| v.to_str().ok()));
    let form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_form);
    // Keep nothing of the request but what is needed while a connect may be held.
    let (method, query) = (parts.method, parts.uri.query().map(str::to_owned));
    drop(parts.headers);
    drop(parts.uri);
    drop(parts.extensions);
    let mut response = if method == Method::POST {
        let max = server.config().max_message_bytes;
        let body = axum::body::to_bytes(body, max)
            .await
            .map_err(|_| format!("request body larger than {max} bytes"))
            .and_then(|b| parse_post(&b, form));
        match body {
            Ok(msgs) => {
                let (parts, new_browser) =
                    serve(&server, Transport::LongPolling, browser, msgs).await;
                let mut r = json_response(StatusCode::OK, join_array(&parts));
                set_cookie(&server, &mut r, new_browser);
                r
            }
            Err(advice) => json_response(StatusCode::BAD_REQUEST, bad_request(&advice)),
        }
    } else if method == Method::GET {
        callback_polling(&server, query.as_deref().unwrap_or(""), browser).await
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    };
    response.headers_mut().extend(cors);
    response
}

/// Processes a batch and, for a connect, holds it; returns the messages to send back (as
/// one JSON array) and a new browser id to set.
pub(crate) async fn serve(
    server: &BayeuxServer,
    transport: Transport,
    browser: Option<Arc<str>>,
    msgs: Vec<Message>,
) -> (Vec<Part>, Option<Arc<str>>) {
    let req = Request { transport, browser };
    let mut outcome = server.process(msgs, &req).await;
    let mut parts = std::mem::take(&mut outcome.replies);
    if let Some(mut plan) = outcome.connect.take() {
        hold_connect(server, &mut plan, &req).await;
        finish_connect(server, plan, &mut parts);
    }
    (parts, outcome.new_browser)
}

/// The reply array for a request that could not be read at all.
pub(crate) fn bad_request(advice: &str) -> String {
    let reply = Reply::to("/meta/unknown", None).fail(
        format!("400::{advice}"),
        Some(json!({"reconnect": "retry", "interval": 0})),
    );
    join_array(&[reply.encode()])
}

/// Whether a `Content-Type` is a form post (CometD's `message=` form).
pub(crate) fn is_form(content_type: &str) -> bool {
    content_type.starts_with("application/x-www-form-urlencoded")
}

/// Parses a long-polling POST body: a JSON batch, or a form with `message` fields.
pub(crate) fn parse_post(bytes: &[u8], form: bool) -> Result<Vec<Message>, String> {
    if !form {
        return parse_batch(bytes).map_err(|e| format!("message_invalid: {e}"));
    }
    let mut msgs = Vec::new();
    for (k, v) in form_urlencoded::parse(bytes) {
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
    let (parts, new_browser) = serve(server, Transport::CallbackPolling, browser, msgs).await;
    let mut r = script_response(&callback, join_array(&parts));
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

/// The browser id from the `Cookie` header values, if it holds a plausible one.
pub(crate) fn browser_cookie<'a>(
    server: &BayeuxServer,
    cookies: impl Iterator<Item = &'a str>,
) -> Option<Arc<str>> {
    let name = &server.config().cookie.name;
    cookies
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| k == name && !v.is_empty() && v.len() <= 64)
        .map(|(_, v)| Arc::from(v))
}

/// Gives a new browser (if any) its id on `r`.
fn set_cookie(server: &BayeuxServer, r: &mut Response, new_browser: Option<Arc<str>>) {
    if let Some(v) = new_browser.and_then(|b| cookie_header(server, &b)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The `Set-Cookie` value giving a new browser its id.
pub(crate) fn cookie_header(server: &BayeuxServer, browser: &str) -> Option<HeaderValue> {
    let c = &server.config().cookie;
    let mut v = format!("{}={browser}; Path=/; HttpOnly", c.name);
    if c.cross_site {
        v.push_str("; SameSite=None; Secure; Partitioned");
    } else if c.secure {
        v.push_str("; Secure");
    }
    HeaderValue::from_str(&v).ok()
}

/// The CORS response headers for a request from `origin` (none if it is not allowed).
pub(crate) fn cors(server: &BayeuxServer, origin: Option<&str>) -> Vec<(HeaderName, HeaderValue)> {
    let Some(origin) = origin else {
        return Vec::new();
    };
    let allowed = &server.config().allowed_origins;
    let allow = if allowed.iter().any(|a| a == origin) {
        match HeaderValue::from_str(origin) {
            Ok(v) => v,
            Err(_) => return Vec::new(),
        }
    } else if allowed.iter().any(|a| a == "*") {
        HeaderValue::from_static("*")
    } else {
        return Vec::new();
    };
    let mut out = vec![(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow.clone())];
    if allow != "*" {
        out.push((
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        ));
    }
    out.extend([
        (header::VARY, HeaderValue::from_static("Origin")),
        (
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        ),
        (
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, x-requested-with"),
        ),
        (
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        ),
    ]);
    out
}

fn to_header_map(pairs: Vec<(HeaderName, HeaderValue)>) -> HeaderMap {
    pairs.into_iter().collect()
}
