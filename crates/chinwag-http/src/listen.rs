//! The accept loop. Each connection takes a place under the connection caps (or is refused
//! with a short `503`/`429` and closed), then goes through a [`ConnectionFront`] when one is
//! given (the lean Bayeux long-polling front), and from the first request the front does not
//! serve, to hyper's HTTP/1.1 server running the application's router. Every request gets the
//! connection's [`Peer`] and a deadline for its body; every connection closes with a
//! lingering close ([`crate::conn`]). On stop, connections finish their request in flight
//! within the drain period.
//!
//! Why not `axum::serve`: it has no connection caps, no front, no bound on hyper's buffers,
//! and it rebuilds the router for every connection.

use crate::client_ip::{Peer, TrustedProxies};
use crate::conn::{Conn, Linger};
use crate::deadline::DeadlineBody;
use crate::slots::{ConnStats, Refusal, Slots};
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use chinwag_limits::LogLimiter;
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

/// Connection timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// An open connection with no request in progress is closed after this long.
    pub idle: Duration,
    /// A request head must arrive whole within this long of its first byte.
    pub header: Duration,
    /// A request body must arrive whole within this long of its head.
    pub body: Duration,
}

impl Timeouts {
    /// These timeouts stretched by a factor between 0.9 and 1.1 picked from `n` (a
    /// connection counter): connections opened together (a burst of clients, an attack)
    /// then time out spread over a fifth of the timeout instead of in one wave that stalls
    /// the server.
    pub fn spread(&self, n: u64) -> Self {
        // A multiplicative hash of the counter: well spread, no random source needed.
        let permille = 900 + (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % 201;
        let scale = |d: Duration| d.mul_f64(permille as f64 / 1000.0);
        Self {
            idle: scale(self.idle),
            header: scale(self.header),
            body: scale(self.body),
        }
    }
}

/// The accept loop's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Connections open at once; more are refused with `503`.
    pub max_connections: usize,
    /// Connections open at once from one address (IPv6: one /64); more are refused with
    /// `429`. Trusted proxies count only in the total.
    pub max_per_ip: usize,
    /// Timeouts. On connections served by hyper, one timer of `idle` covers the wait for
    /// the next request and the reading of its head.
    pub timeouts: Timeouts,
    /// Largest request head (checked on each request: hyper's buffer per connection is
    /// larger, see [`crate::head_limit`]).
    pub head_bytes: usize,
    /// Lingering close.
    pub linger: Linger,
    /// How long a stopping server waits for requests in flight.
    pub drain: Duration,
}

impl Default for Settings {
    /// The documented defaults of `[server]` (see the operator's guide).
    fn default() -> Self {
        Self {
            max_connections: 16_000,
            max_per_ip: 256,
            timeouts: Timeouts {
                idle: Duration::from_secs(60),
                header: Duration::from_secs(15),
                body: Duration::from_secs(30),
            },
            head_bytes: 8192,
            // The time bounds the lingering; the byte budget only stops a client streaming
            // without end. It must exceed what clients upload, or a refused body still
            // arriving is reset (defect 4: a 2 MB send met a broken pipe with 1 MiB here).
            linger: Linger {
                time: Duration::from_secs(5),
                bytes: 64 << 20,
            },
            drain: Duration::from_secs(10),
        }
    }
}

/// How a connection left its front.
#[derive(Debug)]
pub enum Outcome {
    /// Done: close it (with a lingering close).
    Closed,
    /// Closed for idling or for sending a request too slowly (counted, then closed).
    TimedOut,
    /// A request the front does not serve, with the bytes of it already read.
    Handoff(Vec<u8>),
}

/// Serves connections first, before the general HTTP server (see [`Outcome`]).
pub trait ConnectionFront: Clone + Send + Sync + 'static {
    /// Serves `conn` until it closes or carries a request the front does not serve.
    fn serve(
        &self,
        conn: &mut Conn,
        peer: SocketAddr,
        timeouts: Timeouts,
        stop: &CancellationToken,
    ) -> impl Future<Output = Outcome> + Send;
}

/// Refusals being closed right now, beyond which a refused socket is just dropped.
const MAX_REFUSALS_CLOSING: usize = 256;

/// The server: caps and counters, then [`Server::serve`].
#[derive(Debug, Clone)]
pub struct Server {
    settings: Settings,
    slots: Arc<Slots>,
    refusing: Arc<AtomicUsize>,
}

impl Server {
    /// A server with `settings`; addresses in `trusted` are proxies (exempt from the
    /// per-address cap).
    pub fn new(settings: Settings, trusted: Arc<TrustedProxies>) -> Self {
        let slots = Slots::new(settings.max_connections, settings.max_per_ip, trusted);
        Self {
            settings,
            slots,
            refusing: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Connection counters.
    pub fn stats(&self) -> Arc<ConnStats> {
        self.slots.stats.clone()
    }

    /// Serves `app` (after `front`, if any) on `listener` until `stop`, then lets requests in
    /// flight finish within the drain period.
    pub async fn serve<F: ConnectionFront>(
        self,
        listener: TcpListener,
        app: Router,
        front: Option<F>,
        stop: CancellationToken,
    ) {
        let limit = self.settings.head_bytes;
        let app = app.layer(axum::middleware::from_fn(move |req, next| {
            crate::head_limit::refuse_long_heads(limit, req, next)
        }));
        let conns = TaskTracker::new();
        let accept_log = LogLimiter::new(Duration::from_secs(10));
        let refuse_log = LogLimiter::new(Duration::from_secs(10));
        let mut accepted: u64 = 0;
        loop {
            let (stream, peer) = tokio::select! {
                () = stop.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        if let Some(more) = accept_log.allow() {
                            tracing::warn!(error = %e, suppressed = more, "accept failed");
                        }
                        // Out of descriptors and the like: do not spin; the backlog waits.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let slot = match self.slots.take(peer.ip()) {
                Ok(slot) => slot,
                Err(why) => {
                    if let Some(more) = refuse_log.allow() {
                        tracing::warn!(peer = %peer.ip(), ?why, suppressed = more, "connection refused");
                    }
                    self.refuse(stream, why);
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let conn = Conn::new(stream, slot, self.settings.linger);
            let (app, front, stop) = (app.clone(), front.clone(), stop.clone());
            let mut settings = self.settings.clone();
            accepted = accepted.wrapping_add(1);
            settings.timeouts = settings.timeouts.spread(accepted);
            let stats = self.slots.stats.clone();
            conns.spawn(serve_one(conn, peer, app, front, settings, stats, stop));
        }
        conns.close();
        if tokio::time::timeout(self.settings.drain, conns.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = conns.len(),
                "connections still open after the drain period"
            );
        }
    }

    /// Answers a refused connection with a short response and closes it, reading what it
    /// sent for a moment so the answer is not lost to a reset.
    fn refuse(&self, stream: TcpStream, why: Refusal) {
        let (status, text) = match why {
            Refusal::Full => ("503 Service Unavailable", "server at capacity, retry\n"),
            Refusal::PerAddress => (
                "429 Too Many Requests",
                "too many connections from your address\n",
            ),
        };
        let text = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\nretry-after: 5\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
            text.len()
        );
        let _ = stream.try_write(text.as_bytes());
        if self.refusing.fetch_add(1, Ordering::AcqRel) >= MAX_REFUSALS_CLOSING {
            self.refusing.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        let refusing = self.refusing.clone();
        tokio::spawn(async move {
            let mut stream = stream;
            let _ = stream.shutdown().await;
            let mut buf = [0u8; 1024];
            let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
            while let Ok(Ok(n)) = tokio::time::timeout_at(
                deadline,
                tokio::io::AsyncReadExt::read(&mut stream, &mut buf),
            )
            .await
            {
                if n == 0 {
                    break;
                }
            }
            refusing.fetch_sub(1, Ordering::AcqRel);
        });
    }
}

async fn serve_one<F: ConnectionFront>(
    mut conn: Conn,
    peer: SocketAddr,
    app: Router,
    front: Option<F>,
    settings: Settings,
    stats: Arc<ConnStats>,
    stop: CancellationToken,
) {
    let timeouts = settings.timeouts;
    if let Some(front) = front {
        match front.serve(&mut conn, peer, timeouts, &stop).await {
            Outcome::Closed => return,
            Outcome::TimedOut => {
                stats.timed_out.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Outcome::Handoff(head) => conn.set_head(head),
        }
    }
    let body_timeout = timeouts.body;
    let svc = app.map_request(move |req: Request<Incoming>| {
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(Peer(peer));
        let body = if body.is_end_stream() {
            Body::empty()
        } else {
            let deadline = tokio::time::Instant::now() + body_timeout;
            Body::new(DeadlineBody::new(Body::new(body), deadline))
        };
        Request::from_parts(parts, body)
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.idle)
        .max_buf_size(settings.head_bytes.max(crate::head_limit::READ_BUFFER))
        .serve_connection(TokioIo::new(conn), TowerToHyperService::new(svc))
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if r.as_ref().is_err_and(|e| e.is_timeout()) {
                stats.timed_out.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        () = stop.cancelled() => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_spread_within_a_tenth_either_way() {
        let base = Settings::default().timeouts;
        let idles: Vec<Duration> = (0..1000).map(|n| base.spread(n).idle).collect();
        let (lo, hi) = (base.idle.mul_f64(0.9), base.idle.mul_f64(1.1));
        assert!(idles.iter().all(|d| *d >= lo && *d <= hi));
        let distinct: std::collections::HashSet<_> = idles.iter().collect();
        assert!(
            distinct.len() > 150,
            "spread over many values: {}",
            distinct.len()
        );
        let first = base.spread(1);
        assert!(first.header <= base.header.mul_f64(1.1) && first.body >= base.body.mul_f64(0.9));
    }
}
