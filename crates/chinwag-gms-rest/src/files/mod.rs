//! File transfer over GMS (reference §1.2 rows 12–16): the REST operations
//! `POST …/{chatId}/file/limits`, `…/{chatId}/file` (upload), `…/{chatId}/file/{fileId}/download`
//! and `…/{chatId}/file/{fileId}/delete`, and the CometD clients' `POST /genesys/2/chat-ntf`
//! ([`ntf`]). Each reaches the engine through [`chinwag_core::roles::Customers`]' file calls;
//! refusals become GMS errors (201/202/203 with the limit as advice) in [`crate::error`].
//!
//! Access is that of every other operation ([`crate::front`]), except that a download needs
//! no `apikey` header or basic auth: Genesys Widgets download with a hidden HTML form posted
//! to a new window, which cannot send headers. The chat's `secureKey` (and, over REST, its
//! `userId`) authorizes it, as it does every operation on the chat, and the browser's
//! `Origin` is still checked.

mod answer;
mod download;
mod ntf;
mod upload;

pub(crate) use ntf::chat_ntf;

use crate::error::GmsError;
use crate::form::Form;
use crate::{GmsState, bad_path, body, client_ip, error_response, front_for, json};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chinwag_core::CoreError;
use chinwag_core::files::FileError;
use chinwag_core::ids::{BlobId, ChatId, SecureKey, ServiceName, UserId};
use chinwag_core::roles::customers::Credentials;
use std::net::IpAddr;
use upload::Stage;

/// The chat a file request is for, owned (its request's form is gone by the time it is used).
#[derive(Debug, Clone)]
pub(crate) struct Owner {
    service: ServiceName,
    chat_id: ChatId,
    user_id: Option<UserId>,
    key: SecureKey,
    origin: Option<IpAddr>,
    /// The CometD key it was named by (chat-ntf), which its answers carry.
    wire_key: Option<String>,
}

impl Owner {
    fn creds(&self) -> Credentials<'_> {
        Credentials {
            service: &self.service,
            chat_id: &self.chat_id,
            user_id: self.user_id.as_ref(),
            key: &self.key,
            origin: self.origin,
        }
    }
}

/// The `Content-Length` a request announced.
fn declared_length(req: &Request) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The answer to a body announced larger than allowed, sent before reading it; the
/// connection is closed after it (the rest of the body is never read as a request).
fn refused_unread(e: &GmsError, mut cors: HeaderMap) -> Response {
    cors.insert(header::CONNECTION, HeaderValue::from_static("close"));
    error_response(e, cors)
}

/// The refusal of a file larger than `max` bytes (GMS 202, the limit as advice).
fn file_too_large(max: u64) -> GmsError {
    CoreError::File(FileError::FileTooLarge { max }).into()
}

/// A file id as clients send it; a malformed one finds no file (the same answer as another
/// chat's id).
fn file_id(text: &str) -> Result<BlobId, GmsError> {
    BlobId::parse(text.trim()).ok_or_else(|| CoreError::File(FileError::NotFound).into())
}

/// The REST owner named by `form` (`userId` and `secureKey`) for the chat in the path.
fn rest_owner(
    form: &Form,
    service: &ServiceName,
    chat_id: &ChatId,
    origin: Option<IpAddr>,
    stage: Stage,
) -> Result<Option<Owner>, GmsError> {
    let get = |k: &str| form.get(k).filter(|v| !v.is_empty());
    match (get("userId"), get("secureKey")) {
        (Some(user), Some(key)) => Ok(Some(Owner {
            service: service.clone(),
            chat_id: chat_id.clone(),
            user_id: Some(UserId::new(user)),
            key: SecureKey::new(key),
            origin,
            wire_key: None,
        })),
        _ if stage == Stage::File => Ok(None),
        (None, _) => Err(GmsError::missing("userId")),
        (_, None) => Err(GmsError::missing("secureKey")),
    }
}

/// # `POST /genesys/2/chat/{service}/{chatId}/file/limits` and `…/file` (upload).
pub(crate) async fn limits_or_upload(
    State(st): State<GmsState>,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Request,
) -> Response {
    let (service, chat_id) = match path {
        Ok(Path(p)) => p,
        Err(r) => return bad_path(&st, &req, &r),
    };
    let is_upload = !req.uri().path().trim_end_matches('/').ends_with("/limits");
    let (access, cors) = match front_for(&st, &service, &req, true) {
        Ok(v) => v,
        Err(res) => return *res,
    };
    let origin = client_ip(&st, &req);
    let (service, chat_id) = (ServiceName::new(service), ChatId::new(chat_id));
    let resolve = |f: &Form, stage| rest_owner(f, &service, &chat_id, origin, stage);
    if !is_upload {
        if declared_length(&req).is_some_and(|n| n > st.max_body_bytes as u64) {
            return refused_unread(&body::too_large(st.max_body_bytes), cors);
        }
        let owner = match body::read_form(req, st.max_body_bytes)
            .await
            .and_then(|f| resolve(&f, Stage::Final))
        {
            Ok(Some(o)) => o,
            Ok(None) => return error_response(&GmsError::missing("secureKey"), cors),
            Err(e) => return error_response(&e, cors),
        };
        return match st.customers.file_limits(owner.creds()).await {
            Ok((data, view)) => json(StatusCode::OK, answer::limits(&view, None, &data), cors),
            Err(e) => error_response(&e.into(), cors),
        };
    }
    let max_file = access.upload_max_file_size;
    if declared_length(&req).is_some_and(|n| n > max_file.saturating_add(st.max_body_bytes as u64))
    {
        return refused_unread(&file_too_large(max_file), cors);
    }
    if !body::content_type(&req).starts_with("multipart/form-data") {
        let e = GmsError::invalid("an upload is sent as multipart/form-data");
        return error_response(&e, cors);
    }
    let read = upload::read(&st.customers, req, st.max_body_bytes, max_file, &resolve).await;
    let done = match read {
        Ok(up) => upload::finish(&st.customers, up, &resolve).await,
        Err(e) => Err(e),
    };
    match done {
        Ok((_, info, view)) => json(StatusCode::OK, answer::uploaded(&view, None, &info), cors),
        Err(e) => error_response(&e, cors),
    }
}

/// # `POST /genesys/2/chat/{service}/{chatId}/file/{fileId}/download` and `…/delete`.
pub(crate) async fn file_action(
    State(st): State<GmsState>,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
    req: Request,
) -> Response {
    let (service, chat_id, file, action) = match path {
        Ok(Path(p)) => p,
        Err(r) => return bad_path(&st, &req, &r),
    };
    let is_download = action == "download";
    let (_, cors) = match front_for(&st, &service, &req, !is_download) {
        Ok(v) => v,
        Err(res) => return *res,
    };
    if !is_download && action != "delete" {
        let e = GmsError::not_found(format!("unknown file operation '{action}'"));
        return error_response(&e, cors);
    }
    if declared_length(&req).is_some_and(|n| n > st.max_body_bytes as u64) {
        return refused_unread(&body::too_large(st.max_body_bytes), cors);
    }
    let origin = client_ip(&st, &req);
    let (service, chat_id) = (ServiceName::new(service), ChatId::new(chat_id));
    let owner = match body::read_form(req, st.max_body_bytes)
        .await
        .and_then(|f| rest_owner(&f, &service, &chat_id, origin, Stage::Final))
    {
        Ok(Some(o)) => o,
        Ok(None) => return error_response(&GmsError::missing("secureKey"), cors),
        Err(e) => return error_response(&e, cors),
    };
    let id = match file_id(&file) {
        Ok(id) => id,
        Err(e) => return error_response(&e, cors),
    };
    if is_download {
        match st.customers.download(owner.creds(), &id).await {
            Ok((info, read)) => download::response(&info, read, cors),
            Err(e) => error_response(&e.into(), cors),
        }
    } else {
        match st.customers.delete_file(owner.creds(), &id).await {
            Ok((_, view)) => json(StatusCode::OK, answer::deleted(&view, None), cors),
            Err(e) => error_response(&e.into(), cors),
        }
    }
}
