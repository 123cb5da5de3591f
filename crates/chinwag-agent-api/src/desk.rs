//! The agent's desk endpoints: the configured not-ready reasons (`GET /presence`), the
//! canned responses of the queues the agent serves (`GET /canned`), and blind transfer of a
//! chat (`POST /chats/{chatId}/transfer`).

use crate::AgentState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Authed};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chinwag_core::ids::{AgentId, ChatId, QueueName};
use chinwag_core::roles::desk::TransferTarget;
use serde::Deserialize;
use serde_json::json;

/// # `GET /agent/v1/presence` → `{"not_ready_reasons": [..]}`
pub(crate) async fn presence(State(st): State<AgentState>, Authed(_): Authed) -> Response {
    Json(json!({ "not_ready_reasons": st.agents.not_ready_reasons() })).into_response()
}

/// # `GET /agent/v1/canned` → `{"queues": [{"queue", "responses": [{"label", "text"}]}]}`
pub(crate) async fn canned(
    State(st): State<AgentState>,
    Authed(id): Authed,
) -> Result<Response, ApiError> {
    let queues: Vec<_> = st
        .agents
        .canned(&id)?
        .into_iter()
        .map(|c| json!({"queue": c.queue, "responses": c.responses}))
        .collect();
    Ok(Json(json!({ "queues": queues })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransferBody {
    queue: Option<String>,
    agent: Option<String>,
}

/// # `POST /agent/v1/chats/{chatId}/transfer` `{"queue"}` or `{"agent"}`
pub(crate) async fn transfer(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
    ApiJson(b): ApiJson<TransferBody>,
) -> Result<Response, ApiError> {
    let target = match (b.queue, b.agent) {
        (Some(q), None) => TransferTarget::Queue(QueueName::new(q)),
        (None, Some(a)) => TransferTarget::Agent(AgentId::new(a)),
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of \"queue\" or \"agent\"",
            ));
        }
    };
    let events = st.agents.transfer(&id, &ChatId::new(chat), target).await?;
    Ok(Json(json!({ "events": events })).into_response())
}
