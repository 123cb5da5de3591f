//! The agent's desk endpoints: the configured not-ready reasons (`GET /presence`), the
//! canned responses of the queues the agent serves (`GET /canned`), and blind transfer of a
//! chat (`POST /chats/{chatId}/transfer`).

use crate::AgentState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Authed};
use crate::wire::Events;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chinwag_core::ids::{AgentId, ChatId, QueueName};
use chinwag_core::roles::desk::TransferTarget;
use chinwag_core::settings::CannedResponse;
use serde::{Deserialize, Serialize};

/// `GET /presence`'s answer.
#[derive(Serialize)]
struct Presence<'a> {
    not_ready_reasons: &'a [String],
}

/// `GET /canned`'s answer: one group per queue the agent serves.
#[derive(Serialize)]
struct Canned {
    queues: Vec<CannedGroup>,
}

#[derive(Serialize)]
struct CannedGroup {
    queue: QueueName,
    responses: Vec<CannedResponse>,
}

/// # `GET /agent/v1/presence` → `{"not_ready_reasons": [..]}`
pub(crate) async fn presence(State(st): State<AgentState>, Authed(_): Authed) -> Response {
    Json(Presence {
        not_ready_reasons: st.agents.not_ready_reasons(),
    })
    .into_response()
}

/// # `GET /agent/v1/canned` → `{"queues": [{"queue", "responses": [{"label", "text"}]}]}`
pub(crate) async fn canned(
    State(st): State<AgentState>,
    Authed(id): Authed,
) -> Result<Response, ApiError> {
    let queues = st
        .agents
        .canned(&id)?
        .into_iter()
        .map(|c| CannedGroup {
            queue: c.queue,
            responses: c.responses,
        })
        .collect();
    Ok(Json(Canned { queues }).into_response())
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
    Ok(Json(Events { events }).into_response())
}
