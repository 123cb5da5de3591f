//! Agent API errors: the one place every failure becomes an HTTP status and a
//! `{"error":{"code","message"}}` body, whether it comes from the engine ([`CoreError`]), from
//! reading the request (size, deadline, JSON, multipart, query, path, WebSocket upgrade) or
//! from routing (unknown path, wrong method). Nothing else in the crate writes an error to
//! the wire.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chinwag_core::CoreError;
use chinwag_core::files::FileError;
use chinwag_core::roles::desk::TransferError;
use chinwag_http::multipart::{MultipartError, NotMultipart};
use serde::Serialize;

/// An agent API error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds for a `Retry-After` header.
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A 403 for a console request that may have come from another site.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// A 401 for a console sign-in with a wrong id or password (the same for both).
    pub fn bad_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "unknown id or wrong password",
        )
    }

    /// A 429 for a console sign-in to an account locked out for `secs` more seconds.
    pub fn locked_out(secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "locked_out",
            format!("too many failed sign-ins: try again in {secs} s"),
        );
        e.retry_after = Some(secs);
        e
    }

    /// A 401 for a console session cookie that names no live session.
    pub fn session_ended() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the console session has ended (signed out or expired): sign in again",
        )
    }

    /// A 503 for a sign-in that found every password check busy.
    pub fn busy() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "too many sign-ins at once: try again",
        );
        e.retry_after = Some(1);
        e
    }

    /// A 400 for a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A 404 for an unknown path.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
    }

    /// A 405 for a known path called with another method (axum adds the `Allow` header).
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("method {method} is not allowed on this endpoint"),
        )
    }

    /// A 413 for a request body over `limit` bytes.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request body exceeds {limit} bytes"),
        )
    }

    /// A 408 for a request body that did not arrive whole in time.
    pub fn timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "request body not received in time",
        )
    }

    /// A 500: logged here, answered without details.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "agent API request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "unexpected service error",
        )
    }

    /// A rejection of axum's: a client mistake becomes a 400 with axum's explanation, anything
    /// else (a route declared wrongly) a 500.
    fn rejection(status: StatusCode, text: String) -> Self {
        if status.is_client_error() {
            Self::bad_request(text)
        } else {
            Self::internal(text)
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::rejection(r.status(), r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::rejection(r.status(), r.body_text())
    }
}

impl From<NotMultipart> for ApiError {
    /// Not a `multipart/form-data` request with a boundary.
    fn from(r: NotMultipart) -> Self {
        Self::bad_request(format!("a multipart/form-data body is required: {r}"))
    }
}

impl From<MultipartError> for ApiError {
    /// A multipart body that could not be read: over the route's limit (`413`), past its
    /// deadline (`408`), or malformed or cut short (`400`; never a `500` for a body that
    /// failed to arrive).
    fn from(e: MultipartError) -> Self {
        match e {
            MultipartError::Timeout => Self::timeout(),
            MultipartError::TooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body is too large",
            ),
            MultipartError::HeadsTooLarge
            | MultipartError::Malformed(_)
            | MultipartError::Body(_) => Self::bad_request(e.to_string()),
        }
    }
}

impl From<WebSocketUpgradeRejection> for ApiError {
    /// Every failed upgrade is the client's: not a WebSocket request (or not one we can take).
    fn from(r: WebSocketUpgradeRejection) -> Self {
        Self::bad_request(format!(
            "a WebSocket upgrade is required: {}",
            r.body_text()
        ))
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let (status, code) = match e {
            CoreError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            CoreError::NotLoggedIn => (StatusCode::CONFLICT, "not_logged_in"),
            CoreError::NoSuchOffer => (StatusCode::NOT_FOUND, "no_such_offer"),
            CoreError::NotInChat | CoreError::ChatNotFound => {
                (StatusCode::NOT_FOUND, "not_in_chat")
            }
            CoreError::ChatEnded => (StatusCode::CONFLICT, "chat_ended"),
            CoreError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            CoreError::Monitoring => (StatusCode::CONFLICT, "monitoring"),
            CoreError::MessageTooLong { .. } => (StatusCode::BAD_REQUEST, "text_too_long"),
            CoreError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            CoreError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            CoreError::InvalidArgument(_)
            | CoreError::NoSuchEvent
            | CoreError::NameRequired
            | CoreError::FirstNameRequired
            | CoreError::LastNameRequired
            | CoreError::InvalidEmail => (StatusCode::BAD_REQUEST, "bad_request"),
            CoreError::UnknownService => (StatusCode::NOT_FOUND, "unknown_service"),
            // A store that does not answer (Redis down) is temporary, as on the GMS side.
            CoreError::ServiceFull
            | CoreError::Unavailable
            | CoreError::Store(chinwag_core::StoreError::Unavailable) => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            CoreError::File(ref f) => file_status(f),
            CoreError::Transfer(ref t) => transfer_status(t),
            CoreError::Store(_) | CoreError::Random => return Self::internal(e),
        };
        Self::new(status, code, e.to_string())
    }
}

/// The status and code of a refused transfer target.
fn transfer_status(t: &TransferError) -> (StatusCode, &'static str) {
    match t {
        TransferError::NoSuchQueue => (StatusCode::NOT_FOUND, "no_such_queue"),
        TransferError::NoSuchAgent => (StatusCode::NOT_FOUND, "no_such_agent"),
        TransferError::AgentUnavailable => (StatusCode::CONFLICT, "agent_unavailable"),
    }
}

/// The status and code of a refused file operation.
fn file_status(f: &FileError) -> (StatusCode, &'static str) {
    match f {
        FileError::Disabled => (StatusCode::NOT_FOUND, "files_disabled"),
        FileError::NotFound | FileError::BadId => (StatusCode::NOT_FOUND, "no_such_file"),
        FileError::TooManyFiles { .. } => (StatusCode::CONFLICT, "too_many_files"),
        FileError::FileTooLarge { .. } | FileError::TotalTooLarge { .. } => {
            (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large")
        }
        FileError::TypeNotAllowed { .. } => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "file_type_not_allowed")
        }
        FileError::Rejected(_) => (StatusCode::UNPROCESSABLE_ENTITY, "file_rejected"),
        FileError::ScanFailed => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        FileError::NeedAgent | FileError::NotYours | FileError::DownloadsUsed { .. } => {
            (StatusCode::FORBIDDEN, "forbidden")
        }
        FileError::Body(_) => (StatusCode::BAD_REQUEST, "bad_request"),
    }
}

/// The body of every error answer: `{"error":{"code","message"}}`.
#[derive(Serialize)]
struct Envelope<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            Json(Envelope {
                error: Detail {
                    code: self.code,
                    message: &self.message,
                },
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // The rest of a refused or stalled body is not worth reading: close after answering
        // (the connection's lingering close keeps the answer from being lost to a reset).
        if matches!(
            self.status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
        ) {
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_out_of_reach_is_temporary_and_a_broken_one_internal() {
        let down = ApiError::from(CoreError::Store(chinwag_core::StoreError::Unavailable));
        assert_eq!(
            (down.status, down.code),
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        );
        let broken = ApiError::from(CoreError::Store(chinwag_core::StoreError::Backend(
            "x".into(),
        )));
        assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
