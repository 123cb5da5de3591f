//! The lean long-polling front: a small HTTP/1.1 reader that serves the Bayeux POSTs (and
//! their CORS preflights) of a connection itself and keeps **no buffer** while a connect is
//! held or the connection is idle. The first request it does not serve (another path, a
//! WebSocket upgrade, a JSONP `GET`, chunked bodies, `Expect`, HTTP/1.0, pipelining, a head
//! over the limit) hands the connection, with the bytes already read, to the general HTTP
//! server, which answers it and everything after it. It plugs into the accept loop of
//! `chinwag-http` as a [`ConnectionFront`], under that loop's idle, header and body timeouts.
//! Like the router, it refuses a POST from an origin that is not allowed (`403`, not
//! processed) and gives the engine the client's address and forwarded headers
//! (`head` reads them, `response` writes the answers).
//!
//! Why: a parked long-poll on a general HTTP server keeps that connection's read and write
//! buffers (16 KiB or more) for the whole hold; here it keeps only its small state.

mod head;
mod response;

use crate::config::Transport;
use crate::context::ORIGIN_DENIED;
use crate::http::{bad_request, cookie_header, parse_post, serve};
use crate::process::Request;
use crate::server::BayeuxServer;
use chinwag_http::{Conn, ConnectionFront, Outcome, Timeouts};
use head::{PeerInfo, Read};
use response::{Body, response};
use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// The front for one Bayeux mount path.
#[derive(Clone)]
pub struct Front {
    server: BayeuxServer,
    mount: Arc<str>,
    head_limit: usize,
}

/// First read size for a request head (just under 1 KiB: glibc serves blocks up to 1,032
/// bytes from its per-thread cache, larger ones take its slow path).
const HEAD_START: usize = 1000;

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
        peer: SocketAddr,
        timeouts: Timeouts,
        stop: &CancellationToken,
    ) -> Outcome {
        let peer = PeerInfo::new(self, peer);
        let stream = conn.stream();
        loop {
            // Idle: no buffer until the next request arrives. A peek, not `readable()`: a
            // fresh socket reports itself readable at once (tokio starts a registration as
            // ready), which would start the header timeout before the head's first byte.
            let mut first = [0u8; 1];
            tokio::select! {
                biased;
                r = stream.peek(&mut first) => if !matches!(r, Ok(n) if n > 0) { return Outcome::Closed },
                () = stop.cancelled() => return Outcome::Closed,
                () = tokio::time::sleep(timeouts.idle) => return Outcome::TimedOut,
            }
            let mut buf = Vec::with_capacity(HEAD_START);
            let read = match within(timeouts.header, self.read_head(stream, &mut buf, &peer)).await
            {
                Some(Read::Ours(h)) => {
                    within(timeouts.body, self.read_body(stream, &mut buf, h)).await
                }
                other => other,
            };
            let head = match read {
                None => return Outcome::TimedOut,
                Some(Read::Closed) => return Outcome::Closed,
                Some(Read::Other) => return Outcome::Handoff(buf),
                Some(Read::Ours(h)) => h,
            };
            let parsed =
                (!head.options && !head.denied).then(|| parse_post(&buf[head.len..], head.form));
            drop(buf);
            let cors = &head.cors;
            let response = match parsed {
                None if head.denied => {
                    response(403, Body::Text(ORIGIN_DENIED), cors, None, head.close)
                }
                None => response(204, Body::Text(""), cors, None, head.close),
                Some(Err(advice)) => {
                    response(400, Body::Text(&bad_request(&advice)), cors, None, true)
                }
                Some(Ok(msgs)) => {
                    let req = Request {
                        transport: Transport::LongPolling,
                        browser: head.browser,
                        remote: Some(head.remote),
                        origin: head.origin,
                        headers: head.headers,
                        forwarded: false,
                    };
                    let work = serve(&self.server, req, msgs);
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
                    response(200, Body::Array(&parts), &head.cors, cookie, close)
                }
            };
            if stream.write_all(&response.bytes).await.is_err() || response.close {
                return Outcome::Closed;
            }
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
