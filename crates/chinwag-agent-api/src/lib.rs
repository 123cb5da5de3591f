//! Chinwag's agent API: JSON over HTTP at `/agent/v1/*` plus a WebSocket event stream at
//! `/agent/v1/events`, documented in `docs/agent-api.md`. A chat's files are uploaded as
//! multipart and streamed into the engine ([`upload`]), and downloaded as raw bytes
//! ([`files`]).
//!
//! Agents authenticate every call with `Authorization: Bearer <token>` (the WebSocket may pass
//! `?token=` instead, since browsers cannot set headers on it), or, from the browser console,
//! with the session cookie `POST /agent/v1/session` sets ([`console`], [`session`]), which
//! brings cross-site checks with it. Every error, whether the
//! engine's, the request's (size, deadline, JSON, multipart, query, upgrade) or the router's
//! (path, method), is `{"error":{"code","message"}}` with a matching HTTP status, mapped in
//! [`error`]; requests are read by the extractors of `extract`, which never let one of axum's
//! plain-text rejections through. The API's OpenAPI 3.1 document is served, without
//! credentials, at `/agent/v1/openapi.json` ([`openapi`]).

pub mod console;
mod desk;
mod error;
mod extract;
mod files;
mod handlers;
mod openapi;
mod session;
mod stream;
mod supervise;
mod upload;
mod wire;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, delete, get, post, put};
use chinwag_core::roles::Agents;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;

/// Default [`AgentState::max_body_bytes`]: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// Default [`AgentState::ping_after`]: 30 s.
pub const DEFAULT_PING_AFTER: Duration = Duration::from_secs(30);
/// Default [`AgentState::pong_timeout`]: 30 s.
pub const DEFAULT_PONG_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`AgentState::send_timeout`]: 30 s.
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Shared state of the agent API. Build it with [`AgentState::new`] (the defaults) and set
/// the limits that differ.
#[derive(Clone, Debug)]
pub struct AgentState {
    /// The engine, as agents see it.
    pub agents: Agents,
    /// Fires on shutdown; open event streams close.
    pub shutdown: CancellationToken,
    /// Largest request body, and largest message an agent may send on the event stream;
    /// larger bodies are refused with `413 too_large` as soon as that is known.
    pub max_body_bytes: usize,
    /// The event stream pings an agent that has sent nothing (not even a pong) for this long.
    pub ping_after: Duration,
    /// ...and closes the stream if nothing comes back within this long after the ping.
    pub pong_timeout: Duration,
    /// Longest wait for one frame to be written to an event stream; a stream that takes
    /// longer (a stuck agent socket) is closed.
    pub send_timeout: Duration,
    /// Largest file an upload request may carry: the upload route's body limit is this plus
    /// [`Self::max_body_bytes`] (the fields) plus the multipart framing. By default the largest
    /// `upload-max-file-size` of the services with file transfer on; each file is held to
    /// its own service's limit by the engine as it streams in.
    pub max_file_bytes: u64,
    /// Console sign-in: passwords, sessions, lock-outs. By default nobody can sign in.
    pub console: Arc<console::Console>,
}

impl AgentState {
    /// The state with the default limits.
    pub fn new(agents: Agents, shutdown: CancellationToken) -> Self {
        Self {
            max_file_bytes: agents.max_file_size(),
            agents,
            shutdown,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            ping_after: DEFAULT_PING_AFTER,
            pong_timeout: DEFAULT_PONG_TIMEOUT,
            send_timeout: DEFAULT_SEND_TIMEOUT,
            console: Arc::new(console::Console::disabled()),
        }
    }

    /// The upload route's body limit, in bytes.
    pub(crate) fn upload_limit(&self) -> usize {
        usize::try_from(self.max_file_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(self.max_body_bytes)
            .saturating_add(upload::FRAMING_BYTES)
    }
}

/// The agent API routes.
pub fn router(state: AgentState) -> Router {
    // Multipart reads its body through axum's limit; the upload sets its own.
    let files = post(upload::upload)
        .layer(DefaultBodyLimit::max(state.upload_limit()))
        .get(files::list);
    let api = Router::new()
        .route(
            "/session",
            post(session::sign_in).merge(delete(session::sign_out)),
        )
        .route("/session/demo", post(session::sign_in_demo))
        .route("/login", post(handlers::login))
        .route("/logout", post(handlers::logout))
        .route("/me", get(handlers::me))
        .route("/state", put(handlers::set_state))
        .route("/offers/{chat_id}/accept", post(handlers::accept))
        .route("/offers/{chat_id}/reject", post(handlers::reject))
        .route("/chats/{chat_id}", get(handlers::chat))
        .route("/chats/{chat_id}/messages", post(handlers::send))
        .route("/chats/{chat_id}/typing", post(handlers::typing))
        .route("/chats/{chat_id}/push-url", post(handlers::push_url))
        .route("/chats/{chat_id}/notices", post(handlers::notice))
        .route("/chats/{chat_id}/leave", post(handlers::leave))
        .route("/chats/{chat_id}/end", post(handlers::end))
        .route("/chats/{chat_id}/transfer", post(desk::transfer))
        .route("/presence", get(desk::presence))
        .route("/canned", get(desk::canned))
        .route("/chats/{chat_id}/files", files)
        .route(
            "/chats/{chat_id}/files/{file_id}",
            get(files::download).delete(files::delete),
        )
        .route("/events", get(stream::events))
        .route("/openapi.json", get(openapi::document))
        .route("/supervisor", get(supervise::overview))
        .route("/chats/{chat_id}/monitor", post(supervise::monitor))
        .route("/chats/{chat_id}/take-over", post(supervise::take_over))
        // After every route: it applies to the routes present.
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .fallback(handlers::not_found)
        .with_state(state);
    Router::new()
        .route("/agent/v1", any(handlers::not_found))
        .route("/agent/v1/", any(handlers::not_found))
        .nest("/agent/v1", api)
}
