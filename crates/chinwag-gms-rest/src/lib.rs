//! GMS Chat API Version 2 over pure REST, at `/genesys/2/chat/{service}`.
//!
//! Every request is read into a [`form::Form`], parsed into a typed command
//! ([`command`]) with typed credentials, applied through the engine's [`Customers`] handle,
//! and answered with the GMS envelope ([`chinwag_gms_wire::envelope`]). Errors become wire
//! errors in one place ([`error`]). Per-service access
//! rules (apikey, basic auth, allowed origins) live in [`access`]; file transfer (REST
//! `…/file…` and CometD clients' `/genesys/2/chat-ntf`) in `files`, whose routes alone
//! accept bodies the size of a file; any other path under `/genesys/` gets a GMS error with
//! CORS ([`fallback`]). This crate knows nothing of other adapters or of storage.

pub mod access;
mod body;
pub mod command;
pub mod error;
mod fallback;
mod files;
pub mod form;

use access::ServiceAccess;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use chinwag_core::ids::{ChatId, EventIndex, SecureKey, ServiceName, UserId};
use chinwag_core::roles::Customers;
use chinwag_core::roles::customers::{Credentials, CustomerOp, Selection};
use chinwag_gms_wire::comet_key::CometKeys;
use chinwag_gms_wire::envelope::Envelope;
use chinwag_http::{Origins, Peer, TrustedProxies};
use command::Action;
use error::GmsError;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Shared state of the REST adapter.
#[derive(Clone, Debug)]
pub struct GmsState {
    /// The engine, as customers see it.
    pub customers: Customers,
    /// Access rules per service name.
    pub access: Arc<HashMap<String, ServiceAccess>>,
    /// Every origin some service allows (for GMS paths that name no service).
    pub all_origins: Origins,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted: Arc<TrustedProxies>,
    /// Largest accepted request body (and, on the file routes, the most their fields may
    /// take besides the file).
    pub max_body_bytes: usize,
    /// The CometD server keys, which name the chat of a `/genesys/2/chat-ntf` request
    /// (`None`: that path answers 404).
    pub comet_keys: Option<Arc<CometKeys>>,
}

impl GmsState {
    /// The largest `upload-max-file-size` of any service.
    fn largest_upload(&self) -> u64 {
        self.access
            .values()
            .map(|a| a.upload_max_file_size)
            .max()
            .unwrap_or(0)
    }
}

/// The REST routes, with and without the trailing slash Genesys Widgets add, the file
/// routes, and the GMS fallback for every other path under `/genesys/`. Bodies are limited
/// to `max_body_bytes`, except on the file routes: the largest `upload-max-file-size` more,
/// and a few read chunks more (each handler still holds its form's text to
/// `max_body_bytes`), so that the upload sees its file cross the cap (answered with the cap
/// as advice) before the body limit refuses what the engine read past it.
pub fn router(state: GmsState) -> Router {
    use axum::extract::DefaultBodyLimit;
    let limit = state.max_body_bytes;
    let files_limit = usize::try_from(state.largest_upload())
        .unwrap_or(usize::MAX)
        .saturating_add(limit)
        .saturating_add(4 * chinwag_http::head_limit::READ_BUFFER);
    let files = || DefaultBodyLimit::max(files_limit);
    let chat = "/genesys/2/chat/{service}/{chat_id}";
    Router::new()
        .route("/genesys/2/chat/{service}", any(request_chat))
        .route("/genesys/2/chat/{service}/", any(request_chat))
        .route(&format!("{chat}/{{op}}"), any(chat_operation))
        .route(
            &format!("{chat}/file"),
            any(files::limits_or_upload).layer(files()),
        )
        .route(
            &format!("{chat}/file/limits"),
            any(files::limits_or_upload).layer(files()),
        )
        .route(
            &format!("{chat}/file/{{file_id}}/{{action}}"),
            any(files::file_action).layer(files()),
        )
        .route("/genesys/2/chat-ntf", any(files::chat_ntf).layer(files()))
        .route("/genesys/{*rest}", any(fallback::unknown))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// The client's address: the connection's peer, or the client a trusted proxy names.
fn client_ip(st: &GmsState, req: &Request) -> Option<IpAddr> {
    let peer = req.extensions().get::<Peer>()?;
    Some(st.trusted.client_of(peer.0.ip(), req.headers()))
}

fn json(status: StatusCode, body: String, extra: HeaderMap) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut().extend(extra);
    res
}

fn error_response(e: &GmsError, mut extra: HeaderMap) -> Response {
    let (status, body) = e.to_parts();
    if let Some(secs) = e.retry_after {
        let (name, value) = access::retry_after(secs);
        extra.insert(name, value);
    }
    json(status, body, extra)
}

/// An `OPTIONS` preflight answer with `cors`.
fn preflight(cors: HeaderMap) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().extend(cors);
    res
}

/// Common front: service lookup, CORS preflight, origin, method and credentials checks.
/// Returns the access rules and the CORS headers for the answer, or the answer itself.
fn front<'a>(
    st: &'a GmsState,
    service: &str,
    req: &Request,
) -> Result<(&'a ServiceAccess, HeaderMap), Box<Response>> {
    front_for(st, service, req, true)
}

/// [`front`], with the `apikey`/basic-auth check only when `auth` (a download, which a
/// browser form posts without headers, has none: see `files`).
fn front_for<'a>(
    st: &'a GmsState,
    service: &str,
    req: &Request,
    auth: bool,
) -> Result<(&'a ServiceAccess, HeaderMap), Box<Response>> {
    let Some(access) = st
        .access
        .get(service)
        .filter(|_| st.customers.serves(service))
    else {
        let preflight_req = req.method() == Method::OPTIONS;
        let cors = access::cors(&st.all_origins, req.headers(), preflight_req);
        if preflight_req {
            return Err(Box::new(preflight(cors)));
        }
        let e = GmsError::not_found(format!("unknown chat service '{service}'"));
        return Err(Box::new(error_response(&e, cors)));
    };
    if req.method() == Method::OPTIONS {
        return Err(Box::new(preflight(access::cors(
            &access.origins,
            req.headers(),
            true,
        ))));
    }
    let cors = access::cors(&access.origins, req.headers(), false);
    if !access.origin_allowed(req.headers()) {
        // Not executed: a browser would only have hidden the answer from the page.
        return Err(Box::new(error_response(&GmsError::origin_denied(), cors)));
    }
    if req.method() != Method::POST {
        let mut e = GmsError::invalid("use POST");
        e.status = StatusCode::METHOD_NOT_ALLOWED;
        return Err(Box::new(error_response(&e, cors)));
    }
    if auth && !access.authorized(req.headers()) {
        return Err(Box::new(error_response(&GmsError::unauthorized(), cors)));
    }
    Ok((access, cors))
}

/// The answer to a path whose segments do not decode (not UTF-8 once percent-decoded): a
/// GMS error (or preflight) with the CORS headers of every service, as for unknown paths.
pub(crate) fn bad_path(st: &GmsState, req: &Request, rejection: &PathRejection) -> Response {
    let is_preflight = req.method() == Method::OPTIONS;
    let cors = access::cors(&st.all_origins, req.headers(), is_preflight);
    if is_preflight {
        return preflight(cors);
    }
    error_response(&GmsError::invalid(rejection.body_text()), cors)
}

/// # `POST /genesys/2/chat/{service}` — request a new chat.
async fn request_chat(
    State(st): State<GmsState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let service = match path {
        Ok(Path(service)) => service,
        Err(r) => return bad_path(&st, &req, &r),
    };
    let (_, cors) = match front(&st, &service, &req) {
        Ok(v) => v,
        Err(res) => return *res,
    };
    let origin = client_ip(&st, &req);
    let form = match body::read_form(req, st.max_body_bytes).await {
        Ok(f) => f,
        Err(e) => return error_response(&e, cors),
    };
    let mut new = command::new_chat(ServiceName::new(service), form);
    new.origin = origin;
    match st
        .customers
        .request_chat(new, Selection::From(EventIndex(1)))
        .await
    {
        Ok(view) => json(StatusCode::OK, to_json(&Envelope::of(&view, true)), cors),
        Err(e) => error_response(&e.into(), cors),
    }
}

/// # `POST /genesys/2/chat/{service}/{chatId}/{operation}` — every per-chat operation.
async fn chat_operation(
    State(st): State<GmsState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    req: Request,
) -> Response {
    let (service, chat_id, op) = match path {
        Ok(Path(segments)) => segments,
        Err(r) => return bad_path(&st, &req, &r),
    };
    let (access, cors) = match front(&st, &service, &req) {
        Ok(v) => v,
        Err(res) => return *res,
    };
    let origin = client_ip(&st, &req);
    let mut form = match body::read_form(req, st.max_body_bytes).await {
        Ok(f) => f,
        Err(e) => return error_response(&e, cors),
    };
    let cmd = match command::parse(&op, &mut form) {
        Ok(c) => c,
        Err(e) => return error_response(&e, cors),
    };
    // The credentials, parsed once (taken from the form: no copy).
    let Some(user_id) = form.fields.remove("userId").map(UserId::new) else {
        return error_response(&GmsError::missing("userId"), cors);
    };
    let Some(key) = form.fields.remove("secureKey").map(SecureKey::new) else {
        return error_response(&GmsError::missing("secureKey"), cors);
    };
    let (service, chat_id) = (ServiceName::new(service), ChatId::new(chat_id));
    let creds = Credentials {
        service: &service,
        chat_id: &chat_id,
        user_id: Some(&user_id),
        key: &key,
        origin,
    };
    let disconnect = matches!(cmd.action, Action::Op(CustomerOp::Disconnect));
    let refresh = matches!(cmd.action, Action::Refresh { .. });
    let customers = &st.customers;
    let done = match cmd.action {
        Action::Refresh { preview: None } => customers.read(creds, cmd.selection).await,
        Action::Refresh { preview: Some(p) } => {
            customers.read_typing(creds, &p, cmd.selection).await
        }
        Action::Op(op) => customers.act(creds, op, cmd.selection).await,
    };
    match done {
        Ok(view) if refresh && view.ended && access.chat_400_response_on_disconnected => {
            let env = Envelope::of(&view, true).with_error(404, "chat session has ended");
            json(StatusCode::BAD_REQUEST, to_json(&env), cors)
        }
        Ok(view) => json(
            StatusCode::OK,
            to_json(&Envelope::of(&view, !disconnect)),
            cors,
        ),
        Err(e) => error_response(&e.into(), cors),
    }
}

fn to_json(env: &Envelope<'_>) -> String {
    serde_json::to_string(env).unwrap_or_else(|_| String::from("{\"statusCode\":1}"))
}
