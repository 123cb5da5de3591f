//! `POST /agent/v1/chats/{chatId}/files`: a `multipart/form-data` upload streamed into the
//! engine, never held whole. The parts before the file (`description`, `userData[key]`) are
//! read into memory under [`AgentState::max_body_bytes`] in all; the `file` part must come
//! last, and its bytes go to the engine as they arrive, so the engine refuses an oversized or
//! forbidden file at the first byte that shows it. A part after the file fails the upload
//! before the file is announced.
//!
//! Two futures share the request: the *reader* walks the parts and feeds the file's chunks
//! into a small channel; the *uploader* hands that channel to the engine. When the engine is
//! done (stored and announced, or refused), the reader is dropped with whatever it had not
//! read: a refused body is not read on.

use crate::AgentState;
use crate::error::ApiError;
use crate::extract::{ApiPath, Authed};
use crate::wire::FileView;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chinwag_core::event::UserData;
use chinwag_core::ids::ChatId;
use chinwag_core::roles::files::FileBody;
use chinwag_http::multipart::Multipart;
use tokio::sync::{mpsc, oneshot};

/// Bytes of multipart framing (boundaries, part headers) allowed on top of the file and the
/// fields: what the route's body limit adds to them.
pub(crate) const FRAMING_BYTES: usize = 16 * 1024;

/// Chunks of the file in flight between the reader and the engine.
const CHANNEL_CHUNKS: usize = 4;

type Chunk = std::io::Result<Bytes>;

/// What comes before the file: its name and announced length, and the fields.
struct Head {
    name: String,
    length: Option<u64>,
    description: Option<String>,
    data: UserData,
}

/// # `POST /agent/v1/chats/{chatId}/files` (multipart: `description`?, `userData[key]`*, `file`)
pub(crate) async fn upload(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let limit = st.upload_limit();
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    // The parser holds a part's header block and the preamble whole: bounded like the fields.
    let multipart = Multipart::from_request(req, st.max_body_bytes)?;
    let chat = ChatId::new(chat);
    let (head_tx, head_rx) = oneshot::channel();
    let (tx, rx) = mpsc::channel::<Chunk>(CHANNEL_CHUNKS);
    let reader = read(multipart, st.max_body_bytes, head_tx, tx);
    let uploader = async {
        let Ok(head) = head_rx.await else {
            return Err(ApiError::bad_request("no `file` part"));
        };
        let mut rx = rx;
        // Ends for good once the reader is gone (the engine may poll past the end).
        let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let file = FileBody {
            name: head.name,
            length: head.length,
            body: Box::pin(body),
        };
        let info = st
            .agents
            .upload(&id, &chat, file, head.description, head.data)
            .await?;
        Ok(info)
    };
    tokio::pin!(reader, uploader);
    let mut read_err = None;
    let uploaded = loop {
        tokio::select! {
            biased;
            r = &mut reader, if read_err.is_none() => {
                // Done reading: the uploader sees the end (or the error) of the body next.
                read_err = Some(r.err());
            }
            up = &mut uploader => break up,
        }
    };
    match (uploaded, read_err.flatten()) {
        (Ok(info), _) => Ok(Json(FileView::from(info)).into_response()),
        // The request's own fault (malformed, too large, too slow) says more than the
        // engine's "the body ended badly".
        (Err(_), Some(e)) | (Err(e), None) => Err(e),
    }
}

/// Reads the parts: the fields, then the file's head (sent on `head`) and its chunks (on
/// `chunks`). Ends early, without error, once the uploader stops listening.
async fn read(
    mut mp: Multipart,
    budget: usize,
    head: oneshot::Sender<Head>,
    chunks: mpsc::Sender<Chunk>,
) -> Result<(), ApiError> {
    let mut left = budget;
    let mut description = None;
    let mut data = UserData::new();
    let part = loop {
        let Some(part) = mp.next_part().await? else {
            return Err(ApiError::bad_request("no `file` part"));
        };
        let name = part.name.clone().unwrap_or_default();
        if name == "file" {
            break part;
        }
        if name == "description" {
            let text = text(&mut mp, &mut left).await?;
            if description.replace(text).is_some() {
                return Err(ApiError::bad_request("more than one `description` part"));
            }
        } else if let Some(key) = user_data_key(&name) {
            let key = key.to_owned();
            let text = text(&mut mp, &mut left).await?;
            if data.insert(key, text).is_some() {
                return Err(ApiError::bad_request(format!(
                    "more than one `{name}` part"
                )));
            }
        } else {
            return Err(ApiError::bad_request(format!(
                "unknown part `{name}`: expected `description`, `userData[key]` or `file`"
            )));
        }
    };
    let Some(name) = part.file_name else {
        return Err(ApiError::bad_request("the `file` part has no filename"));
    };
    let length = part.content_length;
    let head_sent = head.send(Head {
        name,
        length,
        description,
        data,
    });
    if head_sent.is_err() {
        return Ok(());
    }
    loop {
        let chunk = match mp.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                let e = ApiError::from(e);
                // The engine drops what it stored of a body that ends in an error.
                let _ = chunks.send(Err(cut_short())).await;
                return Err(e);
            }
        };
        if chunks.send(Ok(chunk)).await.is_err() {
            // The engine is done with this body (refused it): read no more of it.
            return Ok(());
        }
    }
    let after = match mp.next_part().await {
        Ok(None) => return Ok(()),
        Ok(Some(_)) => ApiError::bad_request("the `file` part must be the last part"),
        Err(e) => ApiError::from(e),
    };
    let _ = chunks.send(Err(cut_short())).await;
    Err(after)
}

/// What the engine reads when the request fails under it (the reader answers the reason).
fn cut_short() -> std::io::Error {
    std::io::Error::other("the upload request failed")
}

/// `key` of a part named `userData[key]` (non-empty).
fn user_data_key(part: &str) -> Option<&str> {
    part.strip_prefix("userData[")?
        .strip_suffix(']')
        .filter(|k| !k.is_empty())
}

/// A text part, counted against the `left` bytes all fields may take together.
async fn text(mp: &mut Multipart, left: &mut usize) -> Result<String, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = mp.chunk().await? {
        if chunk.len() > *left {
            return Err(ApiError::bad_request(
                "the fields before `file` are too large",
            ));
        }
        *left -= chunk.len();
        out.extend_from_slice(&chunk);
    }
    String::from_utf8(out).map_err(|_| ApiError::bad_request("a field is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::user_data_key;

    #[test]
    fn user_data_parts_name_their_key() {
        assert_eq!(user_data_key("userData[topic]"), Some("topic"));
        assert_eq!(user_data_key("userData[a[b]]"), Some("a[b]"));
        assert_eq!(user_data_key("userData[]"), None);
        assert_eq!(user_data_key("userData"), None);
        assert_eq!(user_data_key("userdata[x]"), None);
    }
}
