//! Every other path under `/genesys/` gets a GMS error (HTTP 404, code 404) with the CORS
//! headers of the service it names (or of every service), and preflights are answered, so a
//! browser sees the error instead of a CORS failure.

use crate::error::GmsError;
use crate::{GmsState, access, bad_path, error_response, preflight};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::Method;
use axum::response::Response;

/// # `ANY /genesys/{*rest}` not served elsewhere.
pub(crate) async fn unknown(
    State(st): State<GmsState>,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let rest = match path {
        Ok(Path(rest)) => rest,
        Err(r) => return bad_path(&st, &req, &r),
    };
    let service = rest
        .strip_prefix("2/chat/")
        .and_then(|r| r.split('/').next())
        .and_then(|name| st.access.get(name));
    let origins = service.map_or(&st.all_origins, |a| &a.origins);
    let is_preflight = req.method() == Method::OPTIONS;
    let cors = access::cors(origins, req.headers(), is_preflight);
    if is_preflight {
        return preflight(cors);
    }
    let advice = format!("no GMS operation at /genesys/{rest}");
    error_response(&GmsError::not_found(advice), cors)
}
