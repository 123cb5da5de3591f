//! The `websocket` transport: JSON arrays in text frames on one connection. Replies go out at
//! once; deliveries are pushed as they are queued (or, with acks, only in connect replies);
//! only the `/meta/connect` reply is held.

use crate::config::Transport;
use crate::message::{join_array, parse_batch};
use crate::process::{ConnectPlan, Request, finish_connect};
use crate::server::BayeuxServer;
use crate::session::{Parked, Session};
use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use std::future::pending;
use std::sync::Arc;
use tokio::time::Instant;

/// Accepts the upgrade and runs the connection.
pub(crate) fn upgrade(server: BayeuxServer, ws: WebSocketUpgrade) -> Response {
    let max = server.config().max_message_bytes;
    // Small buffers: an idle chat client should cost a few KB, not the 128 KiB defaults
    // (they grow on demand for large messages).
    ws.max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| run(server, socket))
        .into_response()
}

/// A connect held on this connection.
struct Held {
    plan: ConnectPlan,
    deadline: Instant,
    _parked: Parked,
}

async fn run(server: BayeuxServer, mut socket: WebSocket) {
    let req = Request {
        transport: Transport::WebSocket,
        browser: None,
    };
    let mut attached: Option<Arc<Session>> = None;
    let mut held: Option<Held> = None;
    loop {
        let current = attached.clone();
        let mut notified = current.as_ref().map(|s| Box::pin(s.wake.notified()));
        if let Some(n) = notified.as_mut() {
            n.as_mut().enable();
        }
        if let Some(s) = &current
            && !flush(&server, s, &mut held, &mut socket).await
        {
            return;
        }
        let deadline = held.as_ref().map(|h| h.deadline);
        tokio::select! {
            frame = socket.recv() => {
                let text = match frame {
                    Some(Ok(Frame::Text(t))) => t,
                    Some(Ok(Frame::Binary(b))) => match String::from_utf8(b.to_vec()) {
                        Ok(t) => t.into(),
                        Err(_) => return,
                    },
                    Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => continue,
                    Some(Ok(Frame::Close(_)) | Err(_)) | None => return,
                };
                let msgs = match parse_batch(text.as_bytes()) {
                    Ok(m) => m,
                    Err(e) => {
                        let reply = crate::message::Reply::to("/meta/unknown", None).fail(
                            format!("400::message_invalid: {e}"),
                            Some(serde_json::json!({"reconnect": "retry", "interval": 0})),
                        );
                        if send(&mut socket, vec![reply.encode()]).await { continue; }
                        return;
                    }
                };
                let mut outcome = server.process(msgs, &req).await;
                let mut parts = std::mem::take(&mut outcome.replies);
                if let Some(s) = outcome.session.take() {
                    attached = Some(s);
                }
                if let Some(plan) = outcome.connect.take() {
                    // A new connect supersedes one held here: answer the old one now.
                    if let Some(old) = held.take() {
                        parts.extend(finish_connect(&server, old.plan));
                    }
                    if plan.hold.is_zero() {
                        parts.extend(finish_connect(&server, plan));
                    } else {
                        let deadline = Instant::now() + plan.hold;
                        let parked = Parked::new(plan.session.clone());
                        held = Some(Held { plan, deadline, _parked: parked });
                    }
                }
                if !parts.is_empty() && !send(&mut socket, parts).await {
                    return;
                }
            }
            () = async { match notified { Some(n) => n.await, None => pending().await } } => {
                // Let other ready tasks (publishers) run first: under load more messages
                // queue up and go out in one frame (one write) instead of one each.
                tokio::task::yield_now().await;
            }
            () = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => pending().await } } => {
                if let Some(h) = held.take()
                    && !send(&mut socket, finish_connect(&server, h.plan)).await {
                        return;
                    }
            }
        }
    }
}

/// Pushes queued deliveries in direct mode and answers a held connect that became ready.
async fn flush(
    server: &BayeuxServer,
    session: &Session,
    held: &mut Option<Held>,
    socket: &mut WebSocket,
) -> bool {
    let direct: Vec<String> = {
        let mut st = session.state();
        if st.direct() && st.removed.is_none() {
            st.queue.drain(..).map(|m| m.to_string()).collect()
        } else {
            Vec::new()
        }
    };
    if !direct.is_empty() && !send(socket, direct).await {
        return false;
    }
    if held.as_ref().is_some_and(|h| h.plan.ready())
        && let Some(h) = held.take()
    {
        return send(socket, finish_connect(server, h.plan)).await;
    }
    true
}

async fn send(socket: &mut WebSocket, parts: Vec<String>) -> bool {
    socket
        .send(Frame::Text(join_array(&parts).into()))
        .await
        .is_ok()
}
