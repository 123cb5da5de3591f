//! The one place where engine errors become GMS wire errors: HTTP status, `statusCode` (2,
//! or 1 for a temporary failure), `errors[{code, advice}]` and a `referenceId` to find the
//! request in the logs.

use axum::http::StatusCode;
use chinwag_core::CoreError;
use chinwag_gms_wire::WireError;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// A GMS error answer.
#[derive(Debug, Clone)]
pub struct GmsError {
    /// HTTP status.
    pub status: StatusCode,
    /// GMS error code.
    pub code: u16,
    /// Human-readable advice.
    pub advice: String,
    /// Set when the error concerns an ended chat.
    pub chat_ended: bool,
    /// Seconds to wait before retrying (rate limits: sent as `Retry-After`).
    pub retry_after: Option<u64>,
    /// A temporary failure: `statusCode` 1 instead of 2.
    pub temporary: bool,
}

impl GmsError {
    /// A 400 with `code` and `advice`.
    pub fn bad_request(code: u16, advice: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            advice: advice.into(),
            chat_ended: false,
            retry_after: None,
            temporary: false,
        }
    }

    /// A malformed or missing parameter (Chinwag code 400).
    pub fn invalid(advice: impl Into<String>) -> Self {
        Self::bad_request(400, advice)
    }

    /// A required parameter is missing.
    pub fn missing(field: &str) -> Self {
        Self::invalid(format!("parameter '{field}' is required"))
    }

    /// An unknown service or operation path.
    pub fn not_found(advice: impl Into<String>) -> Self {
        Self::with_status(StatusCode::NOT_FOUND, 404, advice)
    }

    /// Missing or wrong credentials for a protected service.
    pub fn unauthorized() -> Self {
        Self::with_status(StatusCode::UNAUTHORIZED, 401, "not authorized")
    }

    /// A browser origin the service does not allow (the request was not executed).
    pub fn origin_denied() -> Self {
        Self::with_status(
            StatusCode::FORBIDDEN,
            403,
            "this origin is not allowed to use the service",
        )
    }

    /// A request body that did not arrive in time.
    pub fn body_timeout() -> Self {
        Self::with_status(
            StatusCode::REQUEST_TIMEOUT,
            408,
            "request body not received in time",
        )
    }

    /// An error with its own HTTP status.
    pub fn with_status(status: StatusCode, code: u16, advice: impl Into<String>) -> Self {
        Self {
            status,
            ..Self::bad_request(code, advice)
        }
    }
}

impl From<CoreError> for GmsError {
    fn from(e: CoreError) -> Self {
        let c = chinwag_gms_wire::code_of(&e);
        let retry_after = match &e {
            CoreError::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let status = match (&e, c.code) {
            (CoreError::UnknownService, _) => StatusCode::NOT_FOUND,
            (CoreError::Unauthorized, _) => StatusCode::UNAUTHORIZED,
            (CoreError::RateLimited { .. }, _) => StatusCode::TOO_MANY_REQUESTS,
            (_, 503) => StatusCode::SERVICE_UNAVAILABLE,
            (_, 500) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            code: c.code,
            advice: chinwag_gms_wire::advice_of(&e),
            chat_ended: c.chat_ended,
            retry_after,
            temporary: c.temporary,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    status_code: u8,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    chat_ended: bool,
    errors: [WireError<'a>; 1],
    reference_id: &'a str,
}

static NEXT_REFERENCE: AtomicU64 = AtomicU64::new(1);

/// Server failures are logged at most once a second (with how many were not): a failing
/// store under load must not flood the log.
static SERVER_ERRORS: std::sync::LazyLock<chinwag_limits::LogLimiter> =
    std::sync::LazyLock::new(|| chinwag_limits::LogLimiter::new(std::time::Duration::from_secs(1)));

/// A new request reference id: process id and a counter.
pub fn reference_id() -> String {
    format!(
        "{:x}-{:06x}",
        std::process::id(),
        NEXT_REFERENCE.fetch_add(1, Ordering::Relaxed)
    )
}

impl GmsError {
    /// The status and JSON body; logs server-side failures with their reference id.
    pub fn to_parts(&self) -> (StatusCode, String) {
        let reference = reference_id();
        if self.status.is_server_error()
            && let Some(suppressed) = SERVER_ERRORS.allow()
        {
            tracing::error!(reference = %reference, code = self.code, suppressed, "GMS request failed");
        }
        let body = ErrorBody {
            status_code: if self.temporary { 1 } else { 2 },
            chat_ended: self.chat_ended,
            errors: [WireError {
                code: self.code,
                advice: &self.advice,
            }],
            reference_id: &reference,
        };
        (
            self.status,
            serde_json::to_string(&body).unwrap_or_else(|_| String::from("{\"statusCode\":2}")),
        )
    }
}
