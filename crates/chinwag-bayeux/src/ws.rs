//! The `websocket` transport: JSON arrays in text frames on one connection. Replies go out at
//! once; deliveries are pushed as they are queued (or, with acks, only in connect replies);
//! only the `/meta/connect` reply is held.
//!
//! A quiet client is pinged (`ws_ping_interval`) and dropped if it stays silent
//! (`ws_pong_timeout`); a send that does not finish in `ws_send_timeout` (a client that
//! stopped reading) drops the socket, and its session then overflows or expires as usual. A
//! message over the size limit is answered with close code 1009, invalid UTF-8 with 1007.

use crate::message::{Part, join_array, parse_batch};
use crate::process::{ConnectPlan, Request, finish_connect};
use crate::server::BayeuxServer;
use crate::session::{Parked, Session};
use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket, WebSocketUpgrade, close_code};
use axum::response::{IntoResponse, Response};
use std::future::pending;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;

/// Accepts the upgrade and runs the connection for the request context `req` (that of the
/// upgrade request, kept for the life of the socket).
pub(crate) fn upgrade(server: BayeuxServer, ws: WebSocketUpgrade, req: Request) -> Response {
    let max = server.config().max_message_bytes;
    // Small buffers: an idle chat client should cost a few KB, not the 128 KiB defaults
    // (they grow on demand for large messages).
    ws.max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| run(server, socket, req))
        .into_response()
}

/// A connect held on this connection.
struct Held {
    plan: ConnectPlan,
    _parked: Parked,
}

/// The socket with its send timeout.
struct Socket {
    ws: WebSocket,
    send_timeout: Duration,
}

impl Socket {
    /// Sends a frame; false if the socket failed or the send did not finish in time.
    async fn send(&mut self, frame: Frame) -> bool {
        matches!(
            tokio::time::timeout(self.send_timeout, self.ws.send(frame)).await,
            Ok(Ok(()))
        )
    }

    /// Sends encoded messages as one JSON array.
    async fn send_parts(&mut self, parts: Vec<Part>) -> bool {
        self.send(Frame::Text(join_array(&parts).into())).await
    }

    /// Closes with `code` (best effort: the socket is dropped next anyway).
    async fn close(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = self.send(Frame::Close(Some(frame))).await;
    }
}

/// The close code for a read error the client caused: a message over the limit (1009) or
/// text that is not UTF-8 (1007).
fn close_code_of(err: &axum::Error) -> Option<(u16, &'static str)> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        match e.downcast_ref::<tungstenite::Error>() {
            Some(tungstenite::Error::Capacity(_)) => {
                return Some((close_code::SIZE, "message too big"));
            }
            Some(tungstenite::Error::Utf8(_)) => {
                return Some((close_code::INVALID, "invalid UTF-8"));
            }
            Some(_) => return None,
            None => cause = e.source(),
        }
    }
    None
}

/// Keep-alive: when to ping a quiet client, and when to give up on one that was pinged.
struct KeepAlive {
    interval: Duration,
    pong_timeout: Duration,
    last_heard: Instant,
    pinged: bool,
}

/// What the keep-alive timer asks for when it fires.
enum Due {
    /// Nothing yet: look again at this time.
    Later(Instant),
    /// Send a ping, then look again at this time.
    Ping(Instant),
    /// Pinged and not heard from since: close.
    Dead,
}

impl KeepAlive {
    fn heard(&mut self) {
        self.last_heard = Instant::now();
        self.pinged = false;
    }

    fn due(&mut self) -> Due {
        if self.pinged {
            return Due::Dead;
        }
        let now = Instant::now();
        let quiet_until = self.last_heard + self.interval;
        if now < quiet_until {
            return Due::Later(quiet_until);
        }
        self.pinged = true;
        Due::Ping(now + self.pong_timeout)
    }
}

async fn run(server: BayeuxServer, ws: WebSocket, req: Request) {
    let c = server.config();
    let mut socket = Socket {
        ws,
        send_timeout: c.ws_send_timeout,
    };
    let mut alive = KeepAlive {
        interval: c.ws_ping_interval,
        pong_timeout: c.ws_pong_timeout,
        last_heard: Instant::now(),
        pinged: false,
    };
    // The keep-alive timer is re-armed only when it fires (a frame just records the time).
    let pinging = !alive.interval.is_zero();
    let keepalive = tokio::time::sleep(alive.interval);
    tokio::pin!(keepalive);
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
            frame = socket.ws.recv() => {
                alive.heard();
                let text = match frame {
                    Some(Ok(Frame::Text(t))) => t,
                    Some(Ok(Frame::Binary(b))) => match String::from_utf8(b.to_vec()) {
                        Ok(t) => t.into(),
                        Err(_) => {
                            socket.close(close_code::INVALID, "invalid UTF-8").await;
                            return;
                        }
                    },
                    Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => continue,
                    Some(Err(e)) => {
                        if let Some((code, reason)) = close_code_of(&e) {
                            socket.close(code, reason).await;
                        }
                        return;
                    }
                    Some(Ok(Frame::Close(_))) | None => return,
                };
                let msgs = match parse_batch(text.as_bytes()) {
                    Ok(m) => m,
                    Err(e) => {
                        let reply = crate::message::Reply::to("/meta/unknown", None).fail(
                            format!("400::message_invalid: {e}"),
                            Some(serde_json::json!({"reconnect": "retry", "interval": 0})),
                        );
                        if socket.send_parts(vec![reply.encode().into()]).await { continue; }
                        return;
                    }
                };
                if attached.is_none() && server.cluster().is_some() {
                    let client = msgs.iter().find_map(|m| m.client_id.as_deref());
                    // Boxed, like the relay below: inline, these futures would make every
                    // connection's task as large as the cluster path it rarely takes.
                    let route = Box::pin(server.route(client, req.transport, req.forwarded)).await;
                    if let crate::cluster::route::Route::Forward(owner) = route {
                        // Another node owns the session: relay this socket there for good.
                        match Box::pin(crate::cluster::ws_relay::relay(&server, &mut socket.ws, &owner, &text, &req)).await {
                            Ok(()) => return,
                            Err(_unreachable) => {
                                let id = crate::session::ClientId::new(client.unwrap_or_default());
                                let gone = Box::pin(server.owner_unreachable(&id, &owner, req.transport)).await;
                                if !matches!(gone, crate::cluster::route::Gone::TakenHere) {
                                    let parts = crate::cluster::route::unavailable(&msgs);
                                    if socket.send_parts(parts).await { continue; }
                                    return;
                                }
                            }
                        }
                    }
                }
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
                if !parts.is_empty() && !socket.send_parts(parts).await {
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
                    && !socket.send_parts(answer(&server, h.plan)).await {
                        return;
                    }
            }
            () = &mut keepalive, if pinging => match alive.due() {
                Due::Later(at) => keepalive.as_mut().reset(at),
                Due::Ping(at) => {
                    if !socket.send(Frame::Ping(Default::default())).await {
                        return;
                    }
                    keepalive.as_mut().reset(at);
                }
                Due::Dead => return,
            },
        }
    }
}

/// Pushes queued deliveries in direct mode and answers a held connect that became ready.
async fn flush(
    server: &BayeuxServer,
    session: &Session,
    held: &mut Option<Held>,
    socket: &mut Socket,
) -> bool {
    let mut direct: Vec<Part> = Vec::new();
    {
        let mut st = session.state();
        if st.direct() && st.removed.is_none() {
            st.drain_queue(|m| direct.push(Part::Shared(m)));
        }
    }
    if !direct.is_empty() && !socket.send_parts(direct).await {
        return false;
    }
    if held.as_ref().is_some_and(|h| h.plan.ready())
        && let Some(h) = held.take()
    {
        return socket.send_parts(answer(server, h.plan)).await;
    }
    true
}

/// A held connect's answer on its own.
fn answer(server: &BayeuxServer, plan: ConnectPlan) -> Vec<Part> {
    let mut parts = Vec::new();
    finish_connect(server, plan, &mut parts);
    parts
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
