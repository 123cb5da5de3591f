//! The agent API's request extractors. Each one fails with an [`ApiError`], never with one of
//! axum's plain-text rejections: [`Authed`] (the bearer token or the console's session
//! cookie), [`ApiPath`], [`ApiQuery`] and
//! [`ApiJson`], which reads the body itself so that its size limit is enforced while it
//! streams in and a body that misses its deadline (set by `chinwag-http`) is a `408`.

use crate::AgentState;
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use chinwag_core::ids::AgentId;
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;

/// The agent behind the `Authorization: Bearer` header or, without one, the console's
/// session cookie (after the cross-site checks; the session counts as used).
pub(crate) struct Authed(pub(crate) AgentId);

/// The agent whose token is in the `Authorization: Bearer` header.
pub(crate) fn bearer(st: &AgentState, headers: &HeaderMap) -> Result<AgentId, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    Ok(st.agents.sign_in(token.trim())?)
}

impl FromRequestParts<AgentState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AgentState) -> Result<Self, ApiError> {
        if !parts.headers.contains_key(header::AUTHORIZATION)
            && let Some(caller) = st.console.caller(parts, false)?
        {
            return Ok(Self(caller.live.agent));
        }
        bearer(st, &parts.headers).map(Self)
    }
}

/// Path parameters, or a `400` (e.g. a segment that is not UTF-8 once decoded).
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &S) -> Result<Self, ApiError> {
        let Path(v) = Path::<T>::from_request_parts(parts, st).await?;
        Ok(Self(v))
    }
}

/// The query string, or a `400`.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &S) -> Result<Self, ApiError> {
        let Query(v) = Query::<T>::from_request_parts(parts, st).await?;
        Ok(Self(v))
    }
}

/// A JSON body of at most [`AgentState::max_body_bytes`] (an empty body counts as `{}`).
/// Unknown fields are refused by the body types themselves (`deny_unknown_fields`).
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AgentState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &AgentState) -> Result<Self, ApiError> {
        let bytes = read_body(req, st.max_body_bytes).await?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(text)
            .map(Self)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}

/// Reads the whole body of `req`, refusing it as soon as it is known to exceed `limit`: from
/// its `Content-Length` before reading anything, or while it streams in (chunked).
pub(crate) async fn read_body(req: Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    let capacity = declared.map_or(0, |n| usize::try_from(n).unwrap_or(limit).min(limit));
    let mut out = Vec::with_capacity(capacity);
    let mut chunks = req.into_body().into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| {
            if chinwag_http::deadline::is_body_timeout(&e) {
                ApiError::timeout()
            } else {
                ApiError::bad_request(format!("cannot read the request body: {e}"))
            }
        })?;
        if out.len() + chunk.len() > limit {
            return Err(ApiError::too_large(limit));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
