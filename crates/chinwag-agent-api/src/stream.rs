//! `GET /agent/v1/events`: the WebSocket event stream of one agent. It sends the agent's
//! current status first, then every bus event that concerns the agent, as JSON text frames.
//! A stream that falls behind the bus gets `{"type":"resync"}` and should reload its state.
//! When the status cannot be read (routing shared on a store out of reach) the stream closes
//! at once with `1013` ("try again").
//!
//! Bounds: an agent silent for [`AgentState::ping_after`] is pinged and the stream is closed
//! (`1001`, "no answer to ping") if nothing comes back within [`AgentState::pong_timeout`];
//! every frame written must be taken by the socket within [`AgentState::send_timeout`] or the
//! stream is dropped; an agent's own messages are capped at [`AgentState::max_body_bytes`].
//!
//! Opened with the console's session cookie (and an `Origin` that is the server's own), the
//! stream keeps that session in use while it is open and closes (`1008`, "signed out") as
//! soon as the session ends.

use crate::AgentState;
use crate::console::sessions::SessionId;
use crate::error::ApiError;
use crate::extract::{ApiQuery, bearer};
use crate::wire::Frame;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chinwag_core::bus::BusEvent;
use chinwag_core::ids::AgentId;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often an open stream marks its console session used.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

/// Who opens a stream: the agent, and the console session it came with, if any.
pub(crate) struct Opener {
    agent: AgentId,
    session: Option<(SessionId, CancellationToken)>,
}

impl FromRequestParts<AgentState> for Opener {
    type Rejection = ApiError;

    /// `?token=`, else `Authorization: Bearer`, else the console's cookie (with the
    /// WebSocket's `Origin` check).
    async fn from_request_parts(parts: &mut Parts, st: &AgentState) -> Result<Self, ApiError> {
        let ApiQuery(q) = ApiQuery::<TokenQuery>::from_request_parts(parts, st).await?;
        if let Some(t) = q.token {
            let agent = st.agents.sign_in(&t)?;
            return Ok(Self {
                agent,
                session: None,
            });
        }
        if !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
            && let Some(c) = st.console.caller(parts, true)?
        {
            return Ok(Self {
                agent: c.live.agent,
                session: Some((c.id, c.live.ended)),
            });
        }
        Ok(Self {
            agent: bearer(st, &parts.headers)?,
            session: None,
        })
    }
}

/// # `GET /agent/v1/events` (WebSocket)
///
/// The credentials are checked first (`401`, or `403` for a cookie from another site), then
/// the upgrade (`400` if this is no WebSocket handshake).
pub(crate) async fn events(
    State(st): State<AgentState>,
    opener: Opener,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let limit = st.max_body_bytes;
    Ok(ws?
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| run(st, opener, socket))
        .into_response())
}

fn for_agent<'a>(e: &'a BusEvent, me: &AgentId) -> Option<Frame<'a>> {
    Some(match e {
        BusEvent::Transcript {
            chat_id,
            agents,
            event,
            ..
        } if agents.contains(me) => Frame::Event { chat_id, event },
        BusEvent::Offered {
            agent_id,
            chat_id,
            service,
            expires_ms,
        } if agent_id == me => Frame::Offer {
            chat_id,
            service,
            expires_ms: *expires_ms,
        },
        BusEvent::OfferWithdrawn {
            agent_id,
            chat_id,
            reason,
        } if agent_id == me => Frame::OfferWithdrawn {
            chat_id,
            reason: reason.into(),
        },
        BusEvent::AgentState {
            agent_id,
            ready,
            reason,
        } if agent_id == me => Frame::State {
            ready: *ready,
            reason: reason.as_deref(),
        },
        BusEvent::ReadReceipt {
            chat_id,
            agents,
            participant_id,
            index,
        } if agents.contains(me) => Frame::ReadReceipt {
            chat_id,
            participant_id: *participant_id,
            index: *index,
        },
        BusEvent::TypingPreview {
            chat_id,
            agents,
            text,
        } if agents.contains(me) => Frame::TypingPreview { chat_id, text },
        BusEvent::ChatEnded { chat_id, agents } if agents.contains(me) => {
            Frame::ChatEnded { chat_id }
        }
        _ => return None,
    })
}

/// Why the server ends a stream.
enum End {
    /// The agent closed it, or the socket failed: nothing more to send.
    Gone,
    /// Close with this code and reason.
    Close(u16, &'static str),
}

/// Counts an open event stream in `chinwag_agent_websockets` while it lives.
struct OpenStream;

impl OpenStream {
    fn open() -> Self {
        metrics::gauge!("chinwag_agent_websockets").increment(1.0);
        Self
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!("chinwag_agent_websockets").decrement(1.0);
    }
}

async fn run(st: AgentState, opener: Opener, socket: WebSocket) {
    let _open = OpenStream::open();
    let me = opener.agent;
    let (session, ended) = match opener.session {
        Some((id, ended)) => (Some(id), ended),
        // A token's stream has no session to end it: a token never fires.
        None => (None, CancellationToken::new()),
    };
    let mut touch = tokio::time::interval_at(Instant::now() + TOUCH_EVERY, TOUCH_EVERY);
    let mut bus = st.agents.bus().subscribe();
    let (mut tx, mut rx) = socket.split();
    let status = match st.agents.status(&me).await {
        Ok(status) => status,
        Err(err) => {
            tracing::debug!(agent = %me.as_str(), %err, "agent stream: no status to start with");
            let frame = CloseFrame {
                code: close_code::AGAIN,
                reason: "service unavailable, try again".into(),
            };
            send(&mut tx, Message::Close(Some(frame)), st.send_timeout).await;
            return;
        }
    };
    let hello = Frame::Status {
        status: crate::wire::status(&status),
    };
    if !send(&mut tx, text(&hello), st.send_timeout).await {
        return;
    }
    // Fires after `ping_after` of silence from the agent, then `pong_timeout` after the ping.
    let quiet = tokio::time::sleep(st.ping_after);
    tokio::pin!(quiet);
    let mut pinged = false;
    let end = loop {
        let out = tokio::select! {
            () = st.shutdown.cancelled() => break End::Close(close_code::AWAY, "server shutting down"),
            () = ended.cancelled() => break End::Close(close_code::POLICY, "signed out"),
            _ = touch.tick(), if session.is_some() => {
                if session.as_ref().and_then(|id| st.console.touch(id)).is_none() {
                    break End::Close(close_code::POLICY, "signed out");
                }
                continue;
            }
            () = &mut quiet => {
                if pinged {
                    tracing::debug!(agent = %me.as_str(), "agent stream: no answer to ping");
                    break End::Close(close_code::AWAY, "no answer to ping");
                }
                pinged = true;
                quiet.as_mut().reset(Instant::now() + st.pong_timeout);
                Message::Ping(Default::default())
            }
            incoming = rx.next() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => break End::Gone,
                Some(Ok(_)) => {
                    // Anything from the agent (a pong, its own ping, text) shows it is there.
                    pinged = false;
                    quiet.as_mut().reset(Instant::now() + st.ping_after);
                    continue;
                }
            },
            event = bus.recv() => match event {
                Ok(e) => match for_agent(&e, &me) { Some(v) => text(&v), None => continue },
                Err(RecvError::Lagged(_)) => text(&Frame::Resync),
                Err(RecvError::Closed) => break End::Close(close_code::AWAY, "server shutting down"),
            },
        };
        if !send(&mut tx, out, st.send_timeout).await {
            // Stuck or broken: a close frame would not get through either.
            break End::Gone;
        }
    };
    if let End::Close(code, reason) = end {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        send(&mut tx, Message::Close(Some(frame)), st.send_timeout).await;
    }
}

fn text(frame: &Frame<'_>) -> Message {
    // Nothing in a frame can fail to serialize; were it to, the agent reloads its state.
    let json = serde_json::to_string(frame).unwrap_or_else(|_| r#"{"type":"resync"}"#.into());
    Message::Text(json.into())
}

/// Writes one frame within `limit`; false if the socket failed or took too long (the stream
/// then ends, dropping the connection).
async fn send(tx: &mut SplitSink<WebSocket, Message>, msg: Message, limit: Duration) -> bool {
    match tokio::time::timeout(limit, tx.send(msg)).await {
        Ok(Ok(())) => true,
        Ok(Err(_)) => false,
        Err(_) => {
            tracing::debug!("agent stream: send timed out, closing");
            false
        }
    }
}
