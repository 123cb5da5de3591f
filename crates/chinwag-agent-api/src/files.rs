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
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chinwag_core::CoreError;
use chinwag_core::files::FileError;
use chinwag_core::ids::{BlobId, ChatId};

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
    let mut res = Body::from_stream(read.body).into_response();
    chinwag_http::download::headers(res.headers_mut(), &info.name, &info.mime, read.size);
    Ok(res)
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
