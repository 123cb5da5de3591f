//! Reading a request body into a [`Form`]: urlencoded or multipart, within a size limit
//! (GMS error 204 beyond it) and the connection's body deadline (HTTP 408 when missed). The
//! text of multipart fields counts against the limit as it arrives, whatever limit the
//! route's body has (file routes allow a file's size).

use crate::error::GmsError;
use crate::form::Form;
use axum::extract::Request;
use axum::http::header;
use chinwag_http::multipart::{Multipart, MultipartError};

/// The 204 of a form larger than `limit` bytes.
pub(crate) fn too_large(limit: usize) -> GmsError {
    GmsError::bad_request(204, format!("request body exceeds {limit} bytes"))
}

/// The error of a multipart body that failed (too large, late, or malformed).
pub(crate) fn multipart_failed(e: &MultipartError, limit: usize) -> GmsError {
    match e {
        MultipartError::TooLarge | MultipartError::HeadsTooLarge => too_large(limit),
        MultipartError::Timeout => GmsError::body_timeout(),
        MultipartError::Malformed(why) => GmsError::invalid(*why),
        MultipartError::Body(_) => GmsError::invalid(e.to_string()),
    }
}

/// A multipart reader of `req`, its preamble and part headers held to `limit` bytes.
pub(crate) fn multipart(req: Request, limit: usize) -> Result<Multipart, GmsError> {
    Multipart::from_request(req, limit).map_err(|e| GmsError::invalid(e.to_string()))
}

/// The `Content-Type` of `req`, lowercased.
pub(crate) fn content_type(req: &Request) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Reads the current part as text, taking its bytes from `budget` (what the form's text may
/// still use of `limit`): refused with 204 at the first chunk past it, so it is never held
/// whole.
pub(crate) async fn text_field(
    mp: &mut Multipart,
    budget: &mut usize,
    limit: usize,
) -> Result<String, GmsError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = mp.chunk().await.map_err(|e| multipart_failed(&e, limit))? {
        *budget = budget
            .checked_sub(chunk.len())
            .ok_or_else(|| too_large(limit))?;
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads the body of `req` as a form.
pub(crate) async fn read_form(req: Request, limit: usize) -> Result<Form, GmsError> {
    let ctype = content_type(&req);
    let too_large = || too_large(limit);
    if ctype.starts_with("multipart/form-data") {
        let mut mp = multipart(req, limit)?;
        let mut form = Form::default();
        let mut budget = limit;
        loop {
            let part = mp
                .next_part()
                .await
                .map_err(|e| multipart_failed(&e, limit))?;
            let Some(part) = part else {
                return Ok(form);
            };
            // Files belong to the file-transfer operations, not to this form.
            if let Some(name) = part.name
                && part.file_name.is_none()
            {
                let text = text_field(&mut mp, &mut budget, limit).await?;
                form.insert(name, text);
            }
        }
    }
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|e| {
            if chinwag_http::deadline::is_body_timeout(&e) {
                GmsError::body_timeout()
            } else {
                too_large()
            }
        })?;
    if ctype.starts_with("application/x-www-form-urlencoded")
        || (ctype.is_empty() && bytes.is_empty())
    {
        return Ok(Form::parse_urlencoded(&bytes));
    }
    if ctype.is_empty() {
        // Some hand-written clients omit the header; a body that is a form is still a form.
        return Ok(Form::parse_urlencoded(&bytes));
    }
    Err(GmsError::invalid(format!(
        "unsupported content type '{ctype}': use application/x-www-form-urlencoded or multipart/form-data"
    )))
}
