//! Reading a request body into a [`Form`]: urlencoded or multipart, within a size limit
//! (GMS error 204 beyond it) and the connection's body deadline (HTTP 408 when missed).

use crate::error::GmsError;
use crate::form::Form;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;

/// Reads the body of `req` as a form.
pub(crate) async fn read_form(req: Request, limit: usize) -> Result<Form, GmsError> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let too_large = || GmsError::bad_request(204, format!("request body exceeds {limit} bytes"));
    let failed = |e: &(dyn std::error::Error + 'static), text: String| {
        if chinwag_http::deadline::is_body_timeout(e) {
            GmsError::body_timeout()
        } else {
            GmsError::invalid(text)
        }
    };
    if ctype.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| GmsError::invalid(e.body_text()))?;
        let mut form = Form::default();
        loop {
            match mp.next_field().await {
                Ok(Some(field)) => {
                    let Some(name) = field.name().map(str::to_owned) else {
                        continue;
                    };
                    if field.file_name().is_some() {
                        // Files belong to the file-transfer operations (not yet served).
                        continue;
                    }
                    let text = field.text().await.map_err(|e| {
                        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                            too_large()
                        } else {
                            failed(&e, e.body_text())
                        }
                    })?;
                    form.insert(name, text);
                }
                Ok(None) => return Ok(form),
                Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(too_large());
                }
                Err(e) => {
                    let text = format!("malformed multipart body: {}", e.body_text());
                    return Err(failed(&e, text));
                }
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
