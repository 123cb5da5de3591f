//! Chinwag's agent API: JSON over HTTP at `/agent/v1/*` plus a WebSocket event stream at
//! `/agent/v1/events`, documented in `docs/agent-api.md`.
//!
//! Agents authenticate every call with `Authorization: Bearer <token>` (the WebSocket may pass
//! `?token=` instead, since browsers cannot set headers on it). Errors are
//! `{"error":{"code","message"}}` with a matching HTTP status, mapped in [`error`].

mod error;
mod handlers;
mod stream;
mod wire;

use axum::Router;
use axum::routing::{get, post, put};
use chinwag_core::ChatEngine;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;

/// Shared state of the agent API.
#[derive(Clone, Debug)]
pub struct AgentState {
    /// The chat engine.
    pub engine: Arc<ChatEngine>,
    /// Fires on shutdown; open event streams close.
    pub shutdown: CancellationToken,
}

/// The agent API routes.
pub fn router(state: AgentState) -> Router {
    let api = Router::new()
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
        .route("/events", get(stream::events))
        .fallback(handlers::not_found)
        .with_state(state);
    Router::new().nest("/agent/v1", api)
}
