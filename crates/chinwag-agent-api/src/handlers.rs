//! One handler per agent API endpoint: authenticate, parse, call the engine, answer JSON.

use crate::AgentState;
use crate::error::ApiError;
use crate::wire;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chinwag_core::engine::AgentOp;
use chinwag_core::ids::{AgentId, ChatId, EventIndex};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The agent behind the `Authorization: Bearer` header.
pub(crate) fn agent(st: &AgentState, headers: &HeaderMap) -> Result<AgentId, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    Ok(st.engine.authenticate(token.trim())?)
}

/// Parses a JSON body (an empty body counts as `{}`) into `T`, or a 400 in our format.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

type Answer = Result<Response, ApiError>;

fn ok(v: serde_json::Value) -> Answer {
    Ok(Json(v).into_response())
}

/// # `POST /agent/v1/login`
pub(crate) async fn login(State(st): State<AgentState>, headers: HeaderMap) -> Answer {
    let id = agent(&st, &headers)?;
    ok(wire::status(&st.engine.agent_login(&id)))
}

/// # `POST /agent/v1/logout`
pub(crate) async fn logout(State(st): State<AgentState>, headers: HeaderMap) -> Answer {
    let id = agent(&st, &headers)?;
    st.engine.agent_logout(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// # `GET /agent/v1/me`
pub(crate) async fn me(State(st): State<AgentState>, headers: HeaderMap) -> Answer {
    let id = agent(&st, &headers)?;
    ok(wire::status(&st.engine.agent_status(&id)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    ready: bool,
}

/// # `PUT /agent/v1/state` `{"ready": bool}`
pub(crate) async fn set_state(
    State(st): State<AgentState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Answer {
    let id = agent(&st, &headers)?;
    let b: StateBody = body(&bytes)?;
    ok(wire::status(&st.engine.agent_set_ready(&id, b.ready)?))
}

/// # `POST /agent/v1/offers/{chatId}/accept`
pub(crate) async fn accept(
    State(st): State<AgentState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
) -> Answer {
    let id = agent(&st, &headers)?;
    ok(wire::chat(
        &st.engine.agent_accept(&id, &ChatId::new(chat)).await?,
    ))
}

/// # `POST /agent/v1/offers/{chatId}/reject`
pub(crate) async fn reject(
    State(st): State<AgentState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
) -> Answer {
    let id = agent(&st, &headers)?;
    st.engine.agent_reject(&id, &ChatId::new(chat))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub(crate) struct FromQuery {
    from: Option<u64>,
}

/// # `GET /agent/v1/chats/{chatId}?from=N`
pub(crate) async fn chat(
    State(st): State<AgentState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
    Query(q): Query<FromQuery>,
) -> Answer {
    let id = agent(&st, &headers)?;
    let from = EventIndex(q.from.unwrap_or(1).max(1));
    ok(wire::chat(&st.engine.agent_chat(
        &id,
        &ChatId::new(chat),
        from,
    )?))
}

/// Parses the JSON body as `T`, turns it into an operation, and applies it.
async fn act_with<T: DeserializeOwned>(
    st: &AgentState,
    headers: &HeaderMap,
    chat: String,
    bytes: &Bytes,
    to_op: impl FnOnce(T) -> Result<AgentOp, ApiError>,
) -> Answer {
    agent(st, headers)?;
    let op = to_op(body(bytes)?)?;
    act(st, headers, chat, op).await
}

async fn act(st: &AgentState, headers: &HeaderMap, chat: String, op: AgentOp) -> Answer {
    let id = agent(st, headers)?;
    let events = st.engine.agent_act(&id, &ChatId::new(chat), op).await?;
    ok(serde_json::json!({ "events": events }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    text: String,
    message_type: Option<String>,
}

/// # `POST /agent/v1/chats/{chatId}/messages` `{"text", "message_type"?}`
pub(crate) async fn send(
    State(st): State<AgentState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
    bytes: Bytes,
) -> Answer {
    act_with(&st, &headers, chat, &bytes, |b: SendBody| {
        Ok(AgentOp::Send {
            text: b.text,
            message_type: b.message_type,
        })
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypingBody {
    typing: bool,
    text: Option<String>,
}

/// # `POST /agent/v1/chats/{chatId}/typing` `{"typing": bool, "text"?}`
pub(crate) async fn typing(
    State(st): State<AgentState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
    bytes: Bytes,
) -> Answer {
    act_with(&st, &headers, chat, &bytes, |b: TypingBody| {
        Ok(AgentOp::Typing {
            on: b.typing,
            text: b.text,
        })
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlBody {
    url: String,
}

/// # `POST /agent/v1/chats/{chatId}/push-url` `{"url"}`
pub(crate) async fn push_url(
    State(st): State<AgentState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
    bytes: Bytes,
) -> Answer {
    act_with(&st, &headers, chat, &bytes, |b: UrlBody| {
        Ok(AgentOp::PushUrl { url: b.url })
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeBody {
    text: String,
    #[serde(default)]
    custom: bool,
    attributes: Option<serde_json::Value>,
}

/// # `POST /agent/v1/chats/{chatId}/notices` `{"text", "custom"?, "attributes"?}`
pub(crate) async fn notice(
    State(st): State<AgentState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
    bytes: Bytes,
) -> Answer {
    act_with(&st, &headers, chat, &bytes, |b: NoticeBody| {
        if b.attributes.as_ref().is_some_and(|a| !a.is_object()) {
            return Err(ApiError::bad_request("attributes must be a JSON object"));
        }
        Ok(AgentOp::Notice {
            text: b.text,
            custom: b.custom,
            attributes: b.attributes,
        })
    })
    .await
}

/// # `POST /agent/v1/chats/{chatId}/leave`
pub(crate) async fn leave(
    State(st): State<AgentState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
) -> Answer {
    act(&st, &headers, chat, AgentOp::Leave).await
}

/// # `POST /agent/v1/chats/{chatId}/end`
pub(crate) async fn end(
    State(st): State<AgentState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
) -> Answer {
    act(&st, &headers, chat, AgentOp::End).await
}

/// Unknown agent API path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found()
}
