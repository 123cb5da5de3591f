//! The lean long-polling front: a small HTTP/1.1 reader that serves the Bayeux POSTs (and
//! their CORS preflights) of a connection itself and keeps **no buffer** while a connect is
//! held or the connection is idle. The first request it does not serve (another path, a
//! WebSocket upgrade, a JSONP `GET`, chunked bodies, `Expect`, HTTP/1.0, pipelining, a head
//! over the limit) hands the connection, with the bytes already read, to the general HTTP
//! server, which answers it and everything after it. It plugs into the accept loop of
//! `chinwag-http` as a [`ConnectionFront`], under that loop's idle, header and body timeouts.
//!
//! Why: a parked long-poll on a general HTTP server keeps that connection's read and write
//! buffers (16 KiB or more) for the whole hold; here it keeps only its small state.

use crate::config::Transport;
use crate::http::{bad_request, browser_cookie, cookie_header, cors, is_form, parse_post, serve};
use crate::message::{Part, array_len, write_array};
use crate::server::BayeuxServer;
use axum::http::{HeaderName, HeaderValue};
use chinwag_http::{Conn, ConnectionFront, Outcome, Timeouts};
use std::future::{Future, poll_fn};
use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// The front for one Bayeux mount path.
#[derive(Clone)]
pub struct Front {
    server: BayeuxServer,
    mount: Arc<str>,
    head_limit: usize,
}

/// Headers looked at; a request with more goes to the general server.
const MAX_HEADERS: usize = 48;
/// First read size for a request head (just under 1 KiB: glibc serves blocks up to 1,032
/// bytes from its per-thread cache, larger ones take its slow path).
const HEAD_START: usize = 1000;

/// What the front takes from a request head it serves.
struct Head {
    len: usize,
    options: bool,
    content_length: usize,
    form: bool,
    origin: Option<String>,
    browser: Option<Arc<str>>,
    close: bool,
}

enum Read {
    Closed,
    Other,
    Ours(Head),
}

impl Front {
    /// A front serving `server` at `mount` (e.g. `/cometd`); request heads longer than
    /// `head_limit` bytes go to the general server (which refuses them).
    pub fn new(server: BayeuxServer, mount: &str, head_limit: usize) -> Self {
        Self {
            server,
            mount: Arc::from(mount.trim_end_matches('/')),
            head_limit,
        }
    }

    /// Serves the connection until it closes or carries a request the front does not serve.
    async fn serve_conn(
        &self,
        conn: &mut Conn,
        _peer: SocketAddr,
        timeouts: Timeouts,
        stop: &CancellationToken,
    ) -> Outcome {
        let stream = conn.stream();
        loop {
            // Idle: no buffer until the next request arrives.
            tokio::select! {
                biased;
                r = stream.readable() => if r.is_err() { return Outcome::Closed },
                () = stop.cancelled() => return Outcome::Closed,
                () = tokio::time::sleep(timeouts.idle) => return Outcome::Closed,
            }
            let mut buf = Vec::with_capacity(HEAD_START);
            let read = match within(timeouts.header, self.read_head(stream, &mut buf)).await {
                Some(Read::Ours(h)) => {
                    within(timeouts.body, self.read_body(stream, &mut buf, h)).await
                }
                other => other,
            };
            let head = match read {
                None | Some(Read::Closed) => return Outcome::Closed,
                Some(Read::Other) => return Outcome::Handoff(buf),
                Some(Read::Ours(h)) => h,
            };
            let parsed = (!head.options).then(|| parse_post(&buf[head.len..], head.form));
            drop(buf);
            let cors = cors(&self.server, head.origin.as_deref());
            let response = match parsed {
                None => response(204, Body::Text(""), &cors, None, head.close),
                Some(Err(advice)) => {
                    response(400, Body::Text(&bad_request(&advice)), &cors, None, true)
                }
                Some(Ok(msgs)) => {
                    let work = serve(&self.server, Transport::LongPolling, head.browser, msgs);
                    let mut work = pin!(work);
                    let (parts, new_browser) = tokio::select! {
                        biased;
                        out = &mut work => out,
                        gone = peer_gone(stream) => {
                            if gone { return Outcome::Closed }
                            work.await
                        }
                    };
                    let cookie = new_browser.and_then(|b| cookie_header(&self.server, &b));
                    let close = head.close || stop.is_cancelled();
                    response(200, Body::Array(&parts), &cors, cookie, close)
                }
            };
            if stream.write_all(&response.bytes).await.is_err() || response.close {
                return Outcome::Closed;
            }
        }
    }

    /// Reads the body of a request the front serves (a request followed by more bytes, i.e.
    /// pipelining, is left to the general server).
    async fn read_body(&self, stream: &mut TcpStream, buf: &mut Vec<u8>, head: Head) -> Read {
        let total = head.len + head.content_length;
        while buf.len() < total {
            buf.reserve_exact(total - buf.len());
            match stream.read_buf(buf).await {
                Ok(0) | Err(_) => return Read::Closed,
                Ok(_) => {}
            }
        }
        if buf.len() > total {
            return Read::Other;
        }
        Read::Ours(head)
    }

    async fn read_head(&self, stream: &mut TcpStream, buf: &mut Vec<u8>) -> Read {
        loop {
            if buf.len() == buf.capacity() {
                if buf.len() >= self.head_limit {
                    return Read::Other;
                }
                buf.reserve_exact(buf.len().min(self.head_limit - buf.len()));
            }
            match stream.read_buf(buf).await {
                Ok(0) | Err(_) => return Read::Closed,
                Ok(_) => {}
            }
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(len)) => return self.classify(&req, len),
                Ok(httparse::Status::Partial) => {}
                Err(_) => return Read::Other,
            }
        }
    }

    fn classify(&self, req: &httparse::Request<'_, '_>, len: usize) -> Read {
        let options = match req.method {
            Some("POST") => false,
            Some("OPTIONS") => true,
            _ => return Read::Other,
        };
        let path = req.path.unwrap_or("");
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        let ours = path
            .strip_prefix(&*self.mount)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if req.version != Some(1) || !ours {
            return Read::Other;
        }
        let mut head = Head {
            len,
            options,
            content_length: 0,
            form: false,
            origin: None,
            browser: None,
            close: false,
        };
        let mut length = None;
        let mut cookies = Vec::new();
        for h in req.headers.iter() {
            // Only the headers looked at are decoded.
            let value = || std::str::from_utf8(h.value).unwrap_or("");
            let name = h.name;
            if ["upgrade", "transfer-encoding", "expect"]
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n))
            {
                return Read::Other;
            } else if name.eq_ignore_ascii_case("content-length") {
                match (value().trim().parse::<usize>(), length) {
                    (Ok(n), None) => length = Some(n),
                    (Ok(n), Some(m)) if n == m => {}
                    _ => return Read::Other,
                }
            } else if name.eq_ignore_ascii_case("content-type") {
                head.form = is_form(value());
            } else if name.eq_ignore_ascii_case("origin") {
                head.origin = Some(value().to_owned());
            } else if name.eq_ignore_ascii_case("cookie") {
                cookies.push(value());
            } else if name.eq_ignore_ascii_case("connection") {
                head.close |= value()
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("close"));
            }
        }
        head.browser = browser_cookie(&self.server, cookies.into_iter());
        match (options, length) {
            (true, _) => Read::Ours(head),
            (false, Some(n)) if n <= self.server.config().max_message_bytes => {
                head.content_length = n;
                Read::Ours(head)
            }
            // No length (the general server answers 411) or too large (it answers 400).
            (false, _) => Read::Other,
        }
    }
}

impl ConnectionFront for Front {
    fn serve(
        &self,
        conn: &mut Conn,
        peer: SocketAddr,
        timeouts: Timeouts,
        stop: &CancellationToken,
    ) -> impl Future<Output = Outcome> + Send {
        self.serve_conn(conn, peer, timeouts, stop)
    }
}

/// Runs `read` with a time limit, armed only if it does not finish at once (usually the
/// whole request is already here, and a timer would be wasted work). `None`: timed out.
async fn within<F: Future<Output = Read>>(limit: Duration, read: F) -> Option<Read> {
    let mut read = pin!(read);
    match poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await {
        Poll::Ready(r) => Some(r),
        Poll::Pending => tokio::time::timeout(limit, read).await.ok(),
    }
}

/// Resolves when the peer closed (`true`) or sent more bytes (`false`, a pipelined request,
/// left unread until the held one is answered).
async fn peer_gone(stream: &TcpStream) -> bool {
    let mut one = [0u8; 1];
    !matches!(stream.peek(&mut one).await, Ok(n) if n > 0)
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

struct Response {
    bytes: Vec<u8>,
    close: bool,
}

/// A response body: text as is, or parts as one JSON array.
enum Body<'a> {
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

fn response(
    status: u16,
    body: Body<'_>,
    cors: &[(HeaderName, HeaderValue)],
    cookie: Option<HeaderValue>,
    close: bool,
) -> Response {
    let reason = match status {
        200 => "OK",
        204 => "No Content",
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
