//! The `websocket` transport: JSON arrays in text frames on one connection. Replies go out at
//! once; deliveries are pushed as they are queued (or, with acks, only in connect replies);
//! only the `/meta/connect` reply is held.

use crate::config::Transport;
use crate::message::{Part, join_array, parse_batch};
use crate::process::{ConnectPlan, Request, finish_connect};
use crate::server::BayeuxServer;
use crate::session::{Parked, Session};
use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use std::future::pending;
use std::pin::pin;
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
    _parked: Parked,
}

async fn run(server: BayeuxServer, mut socket: WebSocket) {
    let req = Request {
        transport: Transport::WebSocket,
        browser: None,
    };
    let mut attached: Option<Arc<Session>> = None;
    let mut held: Option<Held> = None;
    // One timer for the held connect, re-armed only when a connect is parked (not on every
    // wake-up: this loop runs once per delivery).
    let timer = tokio::time::sleep_until(Instant::now());
    tokio::pin!(timer);
    loop {
        let current = attached.clone();
        let mut notified = pin!(current.as_ref().map(|s| s.wake.notified()));
        // Register for wake-ups before looking at the queue, so none is missed in between.
        if let Some(n) = notified.as_mut().as_pin_mut() {
            n.enable();
        }
        if let Some(s) = &current
            && !flush(&server, s, &mut held, &mut socket).await
        {
            return;
        }
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
                        if send(&mut socket, vec![reply.encode().into()]).await { continue; }
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
                        finish_connect(&server, old.plan, &mut parts);
                    }
                    if plan.hold.is_zero() {
                        finish_connect(&server, plan, &mut parts);
                    } else {
                        let deadline = Instant::now() + plan.hold;
                        timer.as_mut().reset(deadline);
                        let parked = Parked::new(plan.session.clone());
                        held = Some(Held { plan, _parked: parked });
                    }
                }
                if !parts.is_empty() && !send(&mut socket, parts).await {
                    return;
                }
            }
            () = async { match notified.as_mut().as_pin_mut() { Some(n) => n.await, None => pending().await } } => {
                // Let other ready tasks (publishers) run first: under load more messages
                // queue up and go out in one frame (one write) instead of one each.
                requeue().await;
            }
            () = &mut timer, if held.is_some() => {
                if let Some(h) = held.take()
                    && !send(&mut socket, answer(&server, h.plan)).await {
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
    let direct: Vec<Part> = {
        let mut st = session.state();
        if st.direct() && st.removed.is_none() {
            st.queue.drain(..).map(Part::Shared).collect()
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
        return send(socket, answer(server, h.plan)).await;
    }
    true
}

/// A held connect's answer on its own.
fn answer(server: &BayeuxServer, plan: ConnectPlan) -> Vec<Part> {
    let mut parts = Vec::new();
    finish_connect(server, plan, &mut parts);
    parts
}

async fn send(socket: &mut WebSocket, parts: Vec<Part>) -> bool {
    socket
        .send(Frame::Text(join_array(&parts).into()))
        .await
        .is_ok()
}

/// Goes to the back of the run queue once: unlike `tokio::task::yield_now`, which defers the
/// wake-up until the I/O driver has been polled (one `epoll_wait` per woken connection).
async fn requeue() {
    let mut once = false;
    std::future::poll_fn(|cx| {
        if once {
            std::task::Poll::Ready(())
        } else {
            once = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}
