//! The console's sign-in endpoints: `POST /agent/v1/session` (id and password),
//! `POST /agent/v1/session/demo` (the demo account, while the demo is on) and
//! `DELETE /agent/v1/session`. Each passes the cross-site checks of
//! [`crate::console::browser`] first, so no other site can sign a browser in or out.

use crate::AgentState;
use crate::console::browser::Browser;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::wire;
use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chinwag_core::ids::AgentId;
use serde::Deserialize;

/// A request to the sign-in endpoints that passed the cross-site checks.
pub(crate) struct Checked(Browser);

impl FromRequestParts<AgentState> for Checked {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AgentState) -> Result<Self, ApiError> {
        let browser = st.console.browser(parts);
        browser.check(parts, false)?;
        Ok(Self(browser))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignInBody {
    id: String,
    password: String,
}

/// The agent's status, with the new session's cookie.
async fn signed_in(
    st: &AgentState,
    browser: &Browser,
    agent: &AgentId,
    session: &crate::console::sessions::SessionId,
) -> Result<Response, ApiError> {
    let status = match st.agents.status(agent).await {
        Ok(s) => s,
        Err(e) => {
            st.console.sign_out(session);
            return Err(e.into());
        }
    };
    let mut res = Json(wire::status(&status)).into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, browser.set_cookie(session.as_str()));
    Ok(res)
}

/// # `POST /agent/v1/session` `{"id", "password"}`
pub(crate) async fn sign_in(
    State(st): State<AgentState>,
    Checked(browser): Checked,
    ApiJson(b): ApiJson<SignInBody>,
) -> Result<Response, ApiError> {
    let session = st.console.sign_in(&b.id, &b.password).await?;
    signed_in(&st, &browser, &AgentId::new(b.id), &session).await
}

/// # `POST /agent/v1/session/demo`
///
/// `404` unless the demo is on; the body, if any, is not read.
pub(crate) async fn sign_in_demo(
    State(st): State<AgentState>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, _) = req.into_parts();
    if !st.console.demo_on() {
        return Err(ApiError::not_found());
    }
    let browser = st.console.browser(&parts);
    browser.check(&parts, false)?;
    let (agent, session) = st
        .console
        .sign_in_demo()
        .ok_or_else(ApiError::not_found)??;
    signed_in(&st, &browser, &agent, &session).await
}

/// # `DELETE /agent/v1/session`
///
/// Ends the session the cookie names (if any: signing out twice is no error) and clears it.
pub(crate) async fn sign_out(
    State(st): State<AgentState>,
    Checked(browser): Checked,
    headers: HeaderMap,
) -> Response {
    if let Some(id) = browser
        .cookie(&headers)
        .and_then(crate::console::sessions::SessionId::parse)
    {
        st.console.sign_out(&id);
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, browser.clear_cookie());
    res
}
