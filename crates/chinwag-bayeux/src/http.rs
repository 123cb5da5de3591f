//! The HTTP face of the server: one axum router at the mount path (plus the `/handshake`,
//! `/connect`, `/disconnect` suffixes CometD appends) serving long-polling POSTs, JSONP GETs
//! and WebSocket upgrades, with the browser cookie, CORS and the origin rule (a request from
//! an origin that is not allowed is refused before it is processed).

use crate::config::Transport;
use crate::context::{ORIGIN_DENIED, header_str, jsonp_origin, request_of};
use crate::jsonp;
use crate::message::{Message, Part, Reply, errors, join_array, parse_batch};
use crate::process::{Request, finish_connect, hold_connect};
use crate::server::BayeuxServer;
use axum::Router;
use axum::extract::{FromRequestParts, State, ws::WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chinwag_http::Peer;
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

/// The reply to a request claiming to be forwarded by another node without the secret.
const FORWARD_DENIED: &str = r#"[{"channel":"/meta/unknown","successful":false,"error":"403::forward_denied","advice":{"reconnect":"none"}}]"#;

async fn entry(State(server): State<BayeuxServer>, req: axum::extract::Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let h = &parts.headers;
    let (origin, host) = (header_str(h, &header::ORIGIN), header_str(h, &header::HOST));
    let preflight = parts.method == Method::OPTIONS;
    let cors: HeaderMap = server.cors(origin, host, preflight).into_iter().collect();
    if preflight {
        return (StatusCode::NO_CONTENT, cors).into_response();
    }
    let peer = parts.extensions.get::<Peer>().map(|p| p.0.ip());
    let upgrade =
        header_str(h, &header::UPGRADE).is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if let Some(forwarded) = crate::cluster::forwarded_request(&server, h) {
        // Another node forwarded a client's batch (its origin was checked there).
        return match forwarded {
            Ok(req) if upgrade && req.transport == Transport::WebSocket => {
                match Box::pin(WebSocketUpgrade::from_request_parts(&mut parts, &())).await {
                    Ok(ws) => crate::ws::upgrade(server, ws, req),
                    Err(rejection) => rejection.into_response(),
                }
            }
            Ok(req) if parts.method == Method::POST => {
                drop(parts);
                long_polling(&server, req, body, false).await
            }
            _ => json_response(StatusCode::FORBIDDEN, FORWARD_DENIED.to_owned()),
        };
    }
    let post = parts.method == Method::POST;
    let mut response = if (post || upgrade) && server.origin_denied(origin, host) {
        json_response(StatusCode::FORBIDDEN, ORIGIN_DENIED.to_owned())
    } else if upgrade && server.config().websocket {
        let req = request_of(&server, Transport::WebSocket, None, peer, origin, h);
        match Box::pin(WebSocketUpgrade::from_request_parts(&mut parts, &())).await {
            Ok(ws) => crate::ws::upgrade(server, ws, req),
            Err(rejection) => rejection.into_response(),
        }
    } else if post {
        let form = header_str(h, &header::CONTENT_TYPE).is_some_and(is_form);
        let req = request_of(
            &server,
            Transport::LongPolling,
            browser(&server, h),
            peer,
            origin,
            h,
        );
        // Keep nothing of the request but what is needed while a connect may be held.
        drop(parts);
        long_polling(&server, req, body, form).await
    } else if parts.method == Method::GET {
        let origin = jsonp_origin(h);
        let denied = server.origin_denied(origin, host);
        let req = request_of(
            &server,
            Transport::CallbackPolling,
            browser(&server, h),
            peer,
            origin,
            h,
        );
        let query = parts.uri.query().map(str::to_owned);
        drop(parts);
        callback_polling(&server, query.as_deref().unwrap_or(""), req, denied).await
    } else {
        StatusCode::METHOD_NOT_ALLOWED.into_response()
    };
    response.headers_mut().extend(cors);
    response
}

/// The browser id of the `BAYEUX_BROWSER` cookie among `headers`.
fn browser(server: &BayeuxServer, headers: &HeaderMap) -> Option<Arc<str>> {
    let cookies = headers.get_all(header::COOKIE);
    browser_cookie(server, cookies.iter().filter_map(|v| v.to_str().ok()))
}

async fn long_polling(
    server: &BayeuxServer,
    req: Request,
    body: axum::body::Body,
    form: bool,
) -> Response {
    let max = server.config().max_message_bytes;
    let bytes = match axum::body::to_bytes(body, max).await {
        Ok(b) => b,
        Err(e) if chinwag_http::deadline::is_body_timeout(&e) => {
            let advice = bad_request("request body not received in time");
            return json_response(StatusCode::REQUEST_TIMEOUT, advice);
        }
        Err(_) => {
            let advice = bad_request(&format!("request body larger than {max} bytes"));
            return json_response(StatusCode::BAD_REQUEST, advice);
        }
    };
    match parse_post(&bytes, form) {
        Ok(msgs) => {
            let (parts, new_browser) = serve(server, req, msgs).await;
            let mut r = json_response(StatusCode::OK, join_array(&parts));
            set_cookie(server, &mut r, new_browser);
            r
        }
        Err(advice) => json_response(StatusCode::BAD_REQUEST, bad_request(&advice)),
    }
}

/// Processes a batch and, for a connect, holds it; returns the messages to send back (as
/// one JSON array) and a new browser id to set.
pub(crate) async fn serve(
    server: &BayeuxServer,
    req: Request,
    msgs: Vec<Message>,
) -> (Vec<Part>, Option<Arc<str>>) {
    if server.cluster().is_some()
        && let Some(parts) = server.serve_elsewhere(&msgs, &req).await
    {
        return (parts, None);
    }
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
    req: Request,
    origin_denied: bool,
) -> Response {
    if !server.config().callback_polling {
        return (StatusCode::BAD_REQUEST, "callback-polling is disabled").into_response();
    }
    // The callback is checked before anything is written with it, wherever it stands in
    // the query (an error script for a bad batch names it too).
    let callback = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "jsonp")
        .last()
        .map_or_else(|| String::from("jsonpcallback"), |(_, v)| v.into_owned());
    if !jsonp::valid_callback(&callback) {
        return (StatusCode::BAD_REQUEST, "invalid jsonp callback name").into_response();
    }
    let mut msgs = Vec::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k == "message" {
            match parse_batch(v.as_bytes()) {
                Ok(m) => msgs.extend(m),
                Err(e) => {
                    return script_response(
                        &callback,
                        bad_request(&format!("message_invalid: {e}")),
                    );
                }
            }
        }
    }
    if origin_denied {
        // Each message answered on its own channel and id, so the client's handshake
        // callback runs (with `reconnect: none`) instead of the client retrying forever.
        let replies: Vec<Part> = msgs
            .into_iter()
            .map(|m| {
                let channel = m.channel.unwrap_or_else(|| "/meta/unknown".into());
                Reply::to(channel, m.id)
                    .fail(
                        errors::ORIGIN_DENIED.into(),
                        Some(json!({"reconnect": "none"})),
                    )
                    .encode()
                    .into()
            })
            .collect();
        if !replies.is_empty() {
            return script_response(&callback, join_array(&replies));
        }
        return script_response(&callback, ORIGIN_DENIED.to_owned());
    }
    if msgs.is_empty() {
        return script_response(&callback, bad_request("message_missing"));
    }
    let (parts, new_browser) = serve(server, req, msgs).await;
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
