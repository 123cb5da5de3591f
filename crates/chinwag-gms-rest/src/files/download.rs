//! A download's answer: the file's bytes streamed from the blob store as they are read
//! (never held whole), typed by the MIME type judged from its content at upload, always
//! offered as an attachment under its safe name, with the CORS headers of the service (the
//! download headers themselves are `chinwag_http::download`'s, shared with the agent API).

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chinwag_core::files::FileInfo;
use chinwag_core::ports::BlobRead;

/// The answer to a download of `info`, whose bytes `read` streams.
pub(crate) fn response(info: &FileInfo, read: BlobRead, cors: HeaderMap) -> Response {
    let mut res = (StatusCode::OK, Body::from_stream(read.body)).into_response();
    let h = res.headers_mut();
    chinwag_http::download::headers(h, &info.name, &info.mime, read.size);
    h.extend(cors);
    res
}
