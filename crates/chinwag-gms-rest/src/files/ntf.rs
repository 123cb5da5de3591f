//! `POST /genesys/2/chat-ntf`: file transfer for CometD clients. The form (urlencoded, or
//! multipart for an upload) carries `operation` — `fileGetLimits`, `fileUpload`,
//! `fileDownload` (or `download`, as the GMS sample form writes it) or `fileDelete` — and
//! the CometD `secureKey`, which names the service and chat ([`chinwag_gms_wire::comet_key`]);
//! `alias`, `userId` and `chatId` are not used. Answers carry that key back, with the
//! deprecated ids' placeholders, like CometD notifications.
//!
//! Preflights get the CORS headers of every service; answers those of the service the key
//! names (or of every service when there is none). The key's service's access rules apply
//! as on its REST paths (a download needs no `apikey`, see [`super`]).

use super::upload::{self, Stage};
use super::{Owner, answer, declared_length, download, file_id, file_too_large, refused_unread};
use crate::error::GmsError;
use crate::form::Form;
use crate::{GmsState, access, body, client_ip, error_response, json, preflight};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use chinwag_core::CoreError;
use chinwag_gms_wire::comet_key::CometKeys;
use std::net::IpAddr;

/// The operations, by the names clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Limits,
    Upload,
    Download,
    Delete,
}

fn op_of(form: &Form) -> Result<Op, GmsError> {
    match form.get("operation").map(str::trim) {
        Some("fileGetLimits") => Ok(Op::Limits),
        Some("fileUpload") => Ok(Op::Upload),
        Some("fileDownload" | "download") => Ok(Op::Download),
        Some("fileDelete") => Ok(Op::Delete),
        Some(other) => Err(GmsError::invalid(format!(
            "unknown operation '{other}': use fileGetLimits, fileUpload, fileDownload or fileDelete"
        ))),
        None => Err(GmsError::missing("operation")),
    }
}

/// What a chat-ntf request needs to name its chat and check its access.
struct Ctx<'a> {
    st: &'a GmsState,
    keys: &'a CometKeys,
    headers: &'a HeaderMap,
    origin: Option<IpAddr>,
}

impl Ctx<'_> {
    /// The chat the form's `secureKey` names, once its service's access rules pass.
    fn owner(&self, form: &Form, stage: Stage) -> Result<Option<Owner>, GmsError> {
        let op = form.get("operation").map(|_| op_of(form)).transpose()?;
        if stage == Stage::File && op.is_some_and(|op| op != Op::Upload) {
            return Err(GmsError::invalid("only fileUpload takes a file"));
        }
        let Some(wire) = form.get("secureKey").filter(|k| !k.is_empty()) else {
            return match stage {
                Stage::File => Ok(None),
                Stage::Final => Err(GmsError::missing("secureKey")),
            };
        };
        let not_found = || GmsError::from(CoreError::ChatNotFound);
        let key = self.keys.open(wire).ok_or_else(not_found)?;
        let access = self
            .st
            .access
            .get(key.service.as_str())
            .filter(|_| self.st.customers.serves(key.service.as_str()))
            .ok_or_else(not_found)?;
        if !access.origin_allowed(self.headers) {
            return Err(GmsError::origin_denied());
        }
        let download = stage == Stage::Final && op == Some(Op::Download);
        if !download && !access.authorized(self.headers) {
            return Err(GmsError::unauthorized());
        }
        Ok(Some(Owner {
            service: key.service,
            chat_id: key.chat_id,
            user_id: None,
            key: key.secret,
            origin: self.origin,
            wire_key: Some(wire.to_owned()),
        }))
    }

    /// The CORS headers of the service `owner` names, or of every service.
    fn cors(&self, owner: Option<&Owner>) -> HeaderMap {
        let origins = owner
            .and_then(|o| self.st.access.get(o.service.as_str()))
            .map_or(&self.st.all_origins, |a| &a.origins);
        access::cors(origins, self.headers, false)
    }
}

/// # `POST /genesys/2/chat-ntf`
pub(crate) async fn chat_ntf(State(st): State<GmsState>, req: Request) -> Response {
    let headers = req.headers().clone();
    if req.method() == Method::OPTIONS {
        return preflight(access::cors(&st.all_origins, &headers, true));
    }
    let all = access::cors(&st.all_origins, &headers, false);
    if req.method() != Method::POST {
        let mut e = GmsError::invalid("use POST");
        e.status = StatusCode::METHOD_NOT_ALLOWED;
        return error_response(&e, all);
    }
    let Some(keys) = st.comet_keys.clone() else {
        let e = GmsError::not_found("file transfer over chat-ntf is not available on this server");
        return error_response(&e, all);
    };
    let largest = st.largest_upload();
    if declared_length(&req).is_some_and(|n| n > largest.saturating_add(st.max_body_bytes as u64)) {
        return refused_unread(&file_too_large(largest), all);
    }
    let ctx = Ctx {
        st: &st,
        keys: &keys,
        headers: &headers,
        origin: client_ip(&st, &req),
    };
    let resolve = |f: &Form, stage| ctx.owner(f, stage);
    let read = if body::content_type(&req).starts_with("multipart/form-data") {
        upload::read(&st.customers, req, st.max_body_bytes, largest, &resolve).await
    } else {
        body::read_form(req, st.max_body_bytes)
            .await
            .map(|form| upload::Upload { form, file: None })
    };
    let up = match read {
        Ok(up) => up,
        Err(e) => return error_response(&e, all),
    };
    let op = match op_of(&up.form) {
        Ok(op) => op,
        Err(e) => {
            upload::discard(&st.customers, up.file).await;
            return error_response(&e, all);
        }
    };
    if op == Op::Upload {
        return match upload::finish(&st.customers, up, &resolve).await {
            Ok((owner, info, view)) => {
                let body = answer::uploaded(&view, owner.wire_key.as_deref(), &info);
                json(StatusCode::OK, body, ctx.cors(Some(&owner)))
            }
            Err(e) => error_response(&e, all),
        };
    }
    if up.file.is_some() {
        upload::discard(&st.customers, up.file).await;
        return error_response(&GmsError::invalid("only fileUpload takes a file"), all);
    }
    let owner = match resolve(&up.form, Stage::Final) {
        Ok(Some(o)) => o,
        Ok(None) => return error_response(&GmsError::missing("secureKey"), all),
        Err(e) => return error_response(&e, all),
    };
    let cors = ctx.cors(Some(&owner));
    let wire = owner.wire_key.as_deref();
    let creds = owner.creds();
    match op {
        Op::Limits => match st.customers.file_limits(creds).await {
            Ok((data, view)) => json(StatusCode::OK, answer::limits(&view, wire, &data), cors),
            Err(e) => error_response(&e.into(), cors),
        },
        Op::Download | Op::Delete => {
            let id = match up.form.get("fileId").map(file_id) {
                Some(Ok(id)) => id,
                Some(Err(e)) => return error_response(&e, cors),
                None => return error_response(&GmsError::missing("fileId"), cors),
            };
            if op == Op::Download {
                match st.customers.download(creds, &id).await {
                    Ok((info, read)) => download::response(&info, read, cors),
                    Err(e) => error_response(&e.into(), cors),
                }
            } else {
                match st.customers.delete_file(creds, &id).await {
                    Ok((_, view)) => json(StatusCode::OK, answer::deleted(&view, wire), cors),
                    Err(e) => error_response(&e.into(), cors),
                }
            }
        }
        Op::Upload => error_response(&GmsError::missing("file"), cors),
    }
}
