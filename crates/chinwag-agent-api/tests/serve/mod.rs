//! The agent API served on a free loopback port for this crate's integration tests: the real
//! `chinwag_http` server, with no connection front beside it (no CometD), stopped by `stop`.

use axum::Router;
use chinwag_http::{Conn, ConnectionFront, Outcome, Settings, Timeouts};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Never used: the server has no front.
#[derive(Clone)]
struct NoFront;

impl ConnectionFront for NoFront {
    async fn serve(
        &self,
        _: &mut Conn,
        _: SocketAddr,
        _: Timeouts,
        _: &CancellationToken,
    ) -> Outcome {
        Outcome::Handoff(Vec::new())
    }
}

/// Serves `app` with `http`'s settings until `stop` fires; the address it listens on.
pub(crate) async fn serve(
    http: Settings,
    app: Router,
    stop: &CancellationToken,
) -> std::io::Result<SocketAddr> {
    let server = chinwag_http::Server::new(http, Arc::default());
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(server.serve(listener, app, None::<NoFront>, stop.clone()));
    Ok(addr)
}
