//! A WebSocket whose session another node owns (typically: the client handshook over HTTP
//! on one node, then opened its WebSocket through the load balancer to another) is relayed:
//! this node opens a WebSocket to the owner, carrying the cluster secret and what it knows
//! of the client like a forwarded HTTP request, and copies text frames both ways until
//! either side closes. The owner alone delivers, so order and exactly-once hold as on one
//! node. Relaying was chosen over moving the session here: a move would drop what the
//! owner still had queued, so every relayed client would see repeats.

use super::Owner;
use super::forward::{BROWSER, CLIENT, FORWARD_HEADER, HEADER, ORIGIN, TRANSPORT};
use crate::process::Request;
use crate::server::BayeuxServer;
use axum::extract::ws::{Message as Frame, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as Up;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// The owner could not be reached: it is gone.
pub(crate) struct Unreachable;

/// Relays `client` (whose first batch is `first`) to `owner` until either side closes.
pub(crate) async fn relay(
    server: &BayeuxServer,
    client: &mut WebSocket,
    owner: &Owner,
    first: &str,
    req: &Request,
) -> Result<(), Unreachable> {
    let Some(cluster) = server.cluster() else {
        return Err(Unreachable);
    };
    let url = format!(
        "{}{}",
        owner
            .addr
            .trim_end_matches('/')
            .replacen("http://", "ws://", 1),
        cluster.options.mount
    );
    let Ok(mut up) = url.as_str().into_client_request() else {
        return Err(Unreachable);
    };
    let h = up.headers_mut();
    let mut put = |name: String, value: &str| {
        if let (Ok(n), Ok(v)) = (
            tokio_tungstenite::tungstenite::http::HeaderName::try_from(name),
            HeaderValue::from_str(value),
        ) {
            h.insert(n, v);
        }
    };
    put(FORWARD_HEADER.into(), &cluster.options.secret);
    put(TRANSPORT.into(), "websocket");
    if let Some(ip) = req.remote {
        put(CLIENT.into(), &ip.to_string());
    }
    if let Some(o) = &req.origin {
        put(ORIGIN.into(), o);
    }
    if let Some(b) = &req.browser {
        put(BROWSER.into(), b);
    }
    for (i, v) in req.headers.iter() {
        put(format!("{HEADER}{i}"), v);
    }
    let max = server.config().max_message_bytes;
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(max + 64 * 1024));
    let connect = tokio_tungstenite::connect_async_with_config(up, Some(config), true);
    let mut owner_ws = match tokio::time::timeout(cluster.options.connect_timeout, connect).await {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(tokio_tungstenite::tungstenite::Error::Io(_))) | Err(_) => return Err(Unreachable),
        Ok(Err(e)) => {
            tracing::warn!(%e, owner = %owner.node, "relaying a WebSocket to its session's owner failed");
            return Ok(());
        }
    };
    if owner_ws.send(Up::text(first)).await.is_err() {
        return Ok(());
    }
    loop {
        tokio::select! {
            from_client = client.recv() => match from_client {
                Some(Ok(Frame::Text(t))) => {
                    if owner_ws.send(Up::text(t.as_str())).await.is_err() { return Ok(()) }
                }
                Some(Ok(Frame::Binary(b))) => {
                    if owner_ws.send(Up::binary(b)).await.is_err() { return Ok(()) }
                }
                Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => {}
                Some(Ok(Frame::Close(_)) | Err(_)) | None => {
                    let _ = owner_ws.close(None).await;
                    return Ok(());
                }
            },
            from_owner = owner_ws.next() => match from_owner {
                Some(Ok(Up::Text(t))) => {
                    if client.send(Frame::Text(t.as_str().into())).await.is_err() { return Ok(()) }
                }
                Some(Ok(Up::Binary(b))) => {
                    if client.send(Frame::Binary(b)).await.is_err() { return Ok(()) }
                }
                Some(Ok(Up::Ping(_) | Up::Pong(_) | Up::Frame(_))) => {}
                Some(Ok(Up::Close(_)) | Err(_)) | None => {
                    let _ = client.send(Frame::Close(None)).await;
                    return Ok(());
                }
            },
        }
    }
}
