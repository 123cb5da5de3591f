//! The files of a chat the agent is in: list (`GET …/files`), download (`GET …/files/{id}`)
//! and delete (`DELETE …/files/{id}`); uploads are in [`crate::upload`]. A download streams
//! the stored bytes with headers that keep a browser from running or rendering them in
//! the API's origin: always an attachment, never sniffed, sandboxed, never cached.

use crate::AgentState;
use crate::error::ApiError;
use crate::extract::{ApiPath, Authed};
use crate::wire::{FileList, FileView};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chinwag_core::CoreError;
use chinwag_core::files::FileError;
use chinwag_core::ids::{BlobId, ChatId};
use std::fmt::Write as _;

type Answer = Result<Response, ApiError>;

/// The file id of a path, or `404 no_such_file` (a malformed id names no file).
fn file_id(text: &str) -> Result<BlobId, ApiError> {
    BlobId::parse(text).ok_or_else(|| CoreError::File(FileError::BadId).into())
}

/// # `GET /agent/v1/chats/{chatId}/files`
pub(crate) async fn list(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
) -> Answer {
    let files = st.agents.files(&id, &ChatId::new(chat)).await?;
    let list = FileList {
        files: files.into_iter().map(FileView::from).collect(),
    };
    Ok(Json(list).into_response())
}

/// # `GET /agent/v1/chats/{chatId}/files/{fileId}`
pub(crate) async fn download(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath((chat, file)): ApiPath<(String, String)>,
) -> Answer {
    let file = file_id(&file)?;
    let (info, read) = st.agents.download(&id, &ChatId::new(chat), &file).await?;
    let mime = HeaderValue::from_str(&info.mime)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition = HeaderValue::from_str(&content_disposition(&info.name))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let headers = [
        (header::CONTENT_TYPE, mime),
        (header::CONTENT_LENGTH, HeaderValue::from(read.size)),
        (header::CONTENT_DISPOSITION, disposition),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    Ok((headers, Body::from_stream(read.body)).into_response())
}

/// # `DELETE /agent/v1/chats/{chatId}/files/{fileId}`
pub(crate) async fn delete(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath((chat, file)): ApiPath<(String, String)>,
) -> Answer {
    let file = file_id(&file)?;
    st.agents
        .delete_file(&id, &ChatId::new(chat), &file)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `attachment` with `name` twice (RFC 6266): `filename` as plain ASCII, every character a
/// quoted string cannot hold safely (quotes, backslashes, controls such as CR and LF,
/// non-ASCII) replaced by `_`, and `filename*` with the exact name percent-encoded as UTF-8
/// (RFC 5987), which clients that know it prefer.
pub(crate) fn content_disposition(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            let _ = write!(encoded, "%{b:02X}");
        }
    }
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn a_file_name_cannot_break_out_of_its_header() {
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\\c\r\nSet-Cookie: x.txt"),
            "attachment; filename=\"a_b_c__Set-Cookie: x.txt\"; \
             filename*=UTF-8''a%22b%5Cc%0D%0ASet-Cookie%3A%20x.txt"
        );
        assert_eq!(
            content_disposition("ünï 😀.png"),
            "attachment; filename=\"_n_ _.png\"; \
             filename*=UTF-8''%C3%BCn%C3%AF%20%F0%9F%98%80.png"
        );
    }
}
