//! One handler per agent API endpoint: the extractors authenticate and parse (see
//! [`crate::extract`]), the handler calls the engine's [`chinwag_core::roles::Agents`]
//! handle and answers JSON.

use crate::AgentState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};
use crate::wire;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chinwag_core::ids::{AgentId, ChatId, EventIndex};
use chinwag_core::roles::agents::AgentOp;
use serde::{Deserialize, Serialize};

type Answer = Result<Response, ApiError>;

fn ok(v: impl Serialize) -> Answer {
    Ok(Json(v).into_response())
}

/// # `POST /agent/v1/login`
pub(crate) async fn login(State(st): State<AgentState>, Authed(id): Authed) -> Answer {
    ok(wire::status(&st.agents.login(&id).await?))
}

/// # `POST /agent/v1/logout`
pub(crate) async fn logout(State(st): State<AgentState>, Authed(id): Authed) -> Answer {
    st.agents.logout(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// # `GET /agent/v1/me`
pub(crate) async fn me(State(st): State<AgentState>, Authed(id): Authed) -> Answer {
    ok(wire::status(&st.agents.status(&id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateBody {
    ready: bool,
    reason: Option<String>,
}

/// # `PUT /agent/v1/state` `{"ready": bool, "reason"?: string}`
pub(crate) async fn set_state(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiJson(b): ApiJson<StateBody>,
) -> Answer {
    let status = st
        .agents
        .set_state(&id, b.ready, b.reason.as_deref())
        .await?;
    ok(wire::status(&status))
}

/// # `POST /agent/v1/offers/{chatId}/accept`
pub(crate) async fn accept(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
) -> Answer {
    ok(wire::chat(
        &st.agents.accept(&id, &ChatId::new(chat)).await?,
    ))
}

/// # `POST /agent/v1/offers/{chatId}/reject`
pub(crate) async fn reject(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
) -> Answer {
    st.agents.reject(&id, &ChatId::new(chat)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub(crate) struct FromQuery {
    from: Option<u64>,
}

/// # `GET /agent/v1/chats/{chatId}?from=N`
pub(crate) async fn chat(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
    ApiQuery(q): ApiQuery<FromQuery>,
) -> Answer {
    let from = EventIndex(q.from.unwrap_or(1).max(1));
    ok(wire::chat(
        &st.agents.chat(&id, &ChatId::new(chat), from).await?,
    ))
}

/// Applies `op` to the chat and answers the events it produced.
async fn act(st: &AgentState, id: &AgentId, chat: String, op: AgentOp) -> Answer {
    let events = st.agents.act(id, &ChatId::new(chat), op).await?;
    ok(wire::Events { events })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendBody {
    text: String,
    message_type: Option<String>,
}

/// # `POST /agent/v1/chats/{chatId}/messages` `{"text", "message_type"?}`
pub(crate) async fn send(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
    ApiJson(b): ApiJson<SendBody>,
) -> Answer {
    let op = AgentOp::Send {
        text: b.text,
        message_type: b.message_type,
    };
    act(&st, &id, chat, op).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TypingBody {
    typing: bool,
    text: Option<String>,
}

/// # `POST /agent/v1/chats/{chatId}/typing` `{"typing": bool, "text"?}`
pub(crate) async fn typing(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
    ApiJson(b): ApiJson<TypingBody>,
) -> Answer {
    let op = AgentOp::Typing {
        on: b.typing,
        text: b.text,
    };
    act(&st, &id, chat, op).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UrlBody {
    url: String,
}

/// # `POST /agent/v1/chats/{chatId}/push-url` `{"url"}`
pub(crate) async fn push_url(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
    ApiJson(b): ApiJson<UrlBody>,
) -> Answer {
    act(&st, &id, chat, AgentOp::PushUrl { url: b.url }).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoticeBody {
    text: String,
    #[serde(default)]
    custom: bool,
    attributes: Option<serde_json::Value>,
}

/// # `POST /agent/v1/chats/{chatId}/notices` `{"text", "custom"?, "attributes"?}`
pub(crate) async fn notice(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
    ApiJson(b): ApiJson<NoticeBody>,
) -> Answer {
    if b.attributes.as_ref().is_some_and(|a| !a.is_object()) {
        return Err(ApiError::bad_request("attributes must be a JSON object"));
    }
    let op = AgentOp::Notice {
        text: b.text,
        custom: b.custom,
        attributes: b.attributes,
    };
    act(&st, &id, chat, op).await
}

/// # `POST /agent/v1/chats/{chatId}/leave`
pub(crate) async fn leave(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
) -> Answer {
    act(&st, &id, chat, AgentOp::Leave).await
}

/// # `POST /agent/v1/chats/{chatId}/end`
pub(crate) async fn end(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
) -> Answer {
    act(&st, &id, chat, AgentOp::End).await
}

/// Unknown agent API path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Known path, other method (the `Allow` header is added by the router).
pub(crate) async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::method_not_allowed(method.as_str())
}
