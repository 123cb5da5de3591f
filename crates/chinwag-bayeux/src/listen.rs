//! The accept loop for an application serving Bayeux: each connection first goes through
//! the lean long-polling [`Front`] (when given), then, from the first request the front does
//! not serve, to hyper's HTTP/1.1 server running the application's axum router, with a
//! bounded buffer, `TCP_NODELAY`, upgrades (WebSocket) and a graceful stop.
//!
//! Why not `axum::serve`: it cannot put the front before hyper nor bound hyper's buffers,
//! and it rebuilds the router for every connection.

use crate::front::{Front, Outcome, Prefixed};
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a stopping server waits for its connections to finish their requests.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` (and `front` first, if any) on `listener` until `stop` is cancelled, then
/// lets every connection finish its request in flight (bounded by [`DRAIN`]) and returns.
/// `head_bytes` (at least 8192) is the largest request head hyper accepts and the size of
/// its per-connection buffer.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    front: Option<Front>,
    head_bytes: usize,
    stop: CancellationToken,
) {
    let head_bytes = head_bytes.max(8192);
    let conns = TaskTracker::new();
    loop {
        let stream = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors and the like: do not spin; the backlog waits.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let (app, front, stop) = (app.clone(), front.clone(), stop.clone());
        conns.spawn(async move {
            let io = match front {
                Some(front) => match front.serve(stream, &stop).await {
                    Outcome::Closed => return,
                    Outcome::Handoff(io) => io,
                },
                None => Prefixed::new(Vec::new(), stream),
            };
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .max_buf_size(head_bytes)
                .serve_connection(TokioIo::new(io), TowerToHyperService::new(app))
                .with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => { let _ = r; return; }
                () = stop.cancelled() => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    conns.close();
    if tokio::time::timeout(DRAIN, conns.wait()).await.is_err() {
        tracing::warn!(
            open = conns.len(),
            "connections still open after the drain period"
        );
    }
}
