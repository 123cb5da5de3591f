//! The request-head limit (`max_head_bytes`), checked on each parsed request rather than by
//! the size of hyper's read buffer, so that the buffer can be larger than the limit: hyper
//! reads a body in chunks of at most its buffer, and every chunk costs a system call and a
//! trip through the body's layers (with an 8 KiB buffer, a 50 MiB upload took 6,400 of each).
//!
//! A head over the limit is answered `431` before any route sees it. One over hyper's buffer
//! ([`READ_BUFFER`], or the limit if larger) is answered `431` by hyper itself, so a
//! connection never holds more than that for a head.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Hyper's read buffer per connection, at least: the largest chunk a body is read in.
pub const READ_BUFFER: usize = 64 * 1024;

/// The length of a request's head as sent, less optional whitespace: the request line and
/// every header field with their line ends.
pub fn head_len(method: &Method, uri: &Uri, headers: &HeaderMap) -> usize {
    let target = uri.path_and_query().map_or(1, |p| p.as_str().len());
    // "METHOD target HTTP/1.1\r\n", each "name: value\r\n", then "\r\n".
    let line = method.as_str().len() + 1 + target + 1 + 8 + 2;
    headers
        .iter()
        .fold(line + 2, |n, (k, v)| n + k.as_str().len() + 2 + v.len() + 2)
}

/// Middleware: `431` for a request whose head is longer than `limit` bytes.
pub async fn refuse_long_heads(limit: usize, req: Request, next: Next) -> Response {
    if head_len(req.method(), req.uri(), req.headers()) > limit {
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request head too large\n",
        )
            .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::head_len;

    #[test]
    fn counts_the_head_as_sent() {
        let raw = "GET /a?b=c HTTP/1.1\r\nhost: x\r\nx-pad: 12345\r\n\r\n";
        let req = axum::http::Request::get("/a?b=c")
            .header("host", "x")
            .header("x-pad", "12345")
            .body(())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(head_len(req.method(), req.uri(), req.headers()), raw.len());
    }
}
