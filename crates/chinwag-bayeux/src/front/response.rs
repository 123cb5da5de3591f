//! The front's responses, written straight into one buffer: status line, `Date` (formatted
//! once per second per thread), CORS headers (`Vary: Origin` always), the browser cookie,
//! and the body (text, or encoded messages joined into one JSON array without a copy).

use crate::message::{Part, array_len, write_array};
use axum::http::{HeaderName, HeaderValue};
use std::io::Write as _;

/// A response ready to write.
pub(super) struct Response {
    pub(super) bytes: Vec<u8>,
    pub(super) close: bool,
}

/// A response body: text as is, or parts as one JSON array.
pub(super) enum Body<'a> {
    Text(&'a str),
    Array(&'a [Part]),
}

impl Body<'_> {
    fn len(&self) -> usize {
        match self {
            Body::Text(t) => t.len(),
            Body::Array(parts) => array_len(parts),
        }
    }
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Body::Text(t) => out.extend_from_slice(t.as_bytes()),
            Body::Array(parts) => write_array(parts, out),
        }
    }
}

/// Appends the current `Date` value, formatted once per second per thread.
fn http_date(out: &mut Vec<u8>) {
    thread_local! {
        static CACHED: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((0, String::new())) };
    }
    let now = std::time::SystemTime::now();
    let secs = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    CACHED.with_borrow_mut(|(at, text)| {
        if *at != secs || text.is_empty() {
            *at = secs;
            *text = httpdate::fmt_http_date(now);
        }
        out.extend_from_slice(text.as_bytes());
    });
}

/// A response; `cors` as [`crate::server::BayeuxServer::cors`] makes them, or empty for a
/// request without `Origin` (then only `Vary: Origin` is written, without a list built).
pub(super) fn response(
    status: u16,
    body: Body<'_>,
    cors: &[(HeaderName, HeaderValue)],
    cookie: Option<HeaderValue>,
    close: bool,
) -> Response {
    chinwag_http::requests::count_request("bayeux", status);
    let reason = match status {
        200 => "OK",
        204 => "No Content",
        403 => "Forbidden",
        _ => "Bad Request",
    };
    let mut b = Vec::with_capacity(256 + body.len());
    let _ = write!(b, "HTTP/1.1 {status} {reason}\r\n");
    if status != 204 {
        b.extend_from_slice(
            b"content-type: application/json;charset=UTF-8\r\ncache-control: no-store\r\n",
        );
        let _ = write!(b, "content-length: {}\r\n", body.len());
    }
    b.extend_from_slice(b"date: ");
    http_date(&mut b);
    b.extend_from_slice(b"\r\n");
    if cors.is_empty() {
        b.extend_from_slice(b"vary: Origin\r\n");
    }
    let cookie = cookie.map(|c| (axum::http::header::SET_COOKIE, c));
    for (name, value) in cors.iter().chain(cookie.as_ref()) {
        b.extend_from_slice(name.as_str().as_bytes());
        b.extend_from_slice(b": ");
        b.extend_from_slice(value.as_bytes());
        b.extend_from_slice(b"\r\n");
    }
    if close {
        b.extend_from_slice(b"connection: close\r\n");
    }
    b.extend_from_slice(b"\r\n");
    body.write(&mut b);
    Response { bytes: b, close }
}
