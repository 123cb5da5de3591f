//! Agent API errors: the one mapping from engine errors to HTTP statuses and JSON bodies.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chinwag_core::CoreError;
use serde_json::json;

/// An agent API error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// A 400 for a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }
    /// A 404 for an unknown path.
    pub fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: "no such endpoint".into(),
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let message = e.to_string();
        let (status, code) = match e {
            CoreError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            CoreError::NotLoggedIn => (StatusCode::CONFLICT, "not_logged_in"),
            CoreError::NoSuchOffer => (StatusCode::NOT_FOUND, "no_such_offer"),
            CoreError::NotInChat | CoreError::ChatNotFound => {
                (StatusCode::NOT_FOUND, "not_in_chat")
            }
            CoreError::ChatEnded => (StatusCode::CONFLICT, "chat_ended"),
            CoreError::MessageTooLong { .. } => (StatusCode::BAD_REQUEST, "text_too_long"),
            CoreError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            CoreError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            CoreError::InvalidArgument(_)
            | CoreError::NameRequired
            | CoreError::FirstNameRequired
            | CoreError::LastNameRequired
            | CoreError::InvalidEmail => (StatusCode::BAD_REQUEST, "bad_request"),
            CoreError::UnknownService => (StatusCode::NOT_FOUND, "unknown_service"),
            CoreError::ServiceFull | CoreError::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            CoreError::Store(_) | CoreError::Random => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        if status.is_server_error() {
            tracing::error!(%message, "agent API request failed");
        }
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "unexpected service error".into()
        } else {
            message
        };
        Self {
            status,
            code,
            message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}
