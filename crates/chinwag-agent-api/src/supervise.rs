//! Supervision endpoints, for accounts with `role = "supervisor"` (anyone else: `403
//! forbidden`): `GET /supervisor` (queues, agents with their load, the oldest live chats),
//! `POST /chats/{chatId}/monitor` (silent) and `POST /chats/{chatId}/take-over`. Leaving a
//! monitored chat is the ordinary `/leave`. The overview's JSON shapes are typed here.

use crate::AgentState;
use crate::error::ApiError;
use crate::extract::{ApiPath, Authed};
use crate::wire;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chinwag_core::ids::{AgentId, ChatId, QueueName, ServiceName};
use chinwag_core::roles::supervise::{LiveChat, LiveState, QueueOverview, SupervisorOverview};
use serde::Serialize;

/// `GET /supervisor`.
#[derive(Serialize)]
struct Overview<'a> {
    queues: Vec<QueueLoad>,
    agents: Vec<AgentLoad<'a>>,
    chats: Vec<ChatLine>,
    /// More live chats exist than `chats` lists.
    truncated: bool,
}

/// One queue's load.
#[derive(Serialize)]
struct QueueLoad {
    queue: QueueName,
    waiting: usize,
    offered: usize,
    /// How long the chat waiting longest has waited; `null` when none waits.
    longest_wait_ms: Option<i64>,
}

/// An agent's status (as `GET /me` answers it) and its load.
#[derive(Serialize)]
struct AgentLoad<'a> {
    #[serde(flatten)]
    status: wire::Status<'a>,
    /// Chats plus pending offers.
    load: usize,
}

/// One live chat.
#[derive(Serialize)]
struct ChatLine {
    chat_id: ChatId,
    service: ServiceName,
    queue: QueueName,
    /// `waiting`, `offered` or `active`.
    state: &'static str,
    since_ms: i64,
    agents: Vec<AgentName>,
    monitored: bool,
    customer: Option<String>,
    subject: Option<String>,
}

/// An agent of a chat.
#[derive(Serialize)]
struct AgentName {
    id: AgentId,
    name: String,
}

impl From<QueueOverview> for QueueLoad {
    fn from(q: QueueOverview) -> Self {
        Self {
            queue: q.queue,
            waiting: q.waiting,
            offered: q.offered,
            longest_wait_ms: q.longest_wait_ms,
        }
    }
}

impl From<LiveChat> for ChatLine {
    fn from(c: LiveChat) -> Self {
        Self {
            chat_id: c.chat_id,
            service: c.service,
            queue: c.queue,
            state: match c.state {
                LiveState::Waiting => "waiting",
                LiveState::Offered => "offered",
                LiveState::Active => "active",
            },
            since_ms: c.since_ms,
            agents: c
                .agents
                .into_iter()
                .map(|(id, name)| AgentName { id, name })
                .collect(),
            monitored: c.monitored,
            customer: c.customer,
            subject: c.subject,
        }
    }
}

impl<'a> Overview<'a> {
    fn of(o: &'a SupervisorOverview) -> Self {
        Self {
            queues: o.queues.iter().cloned().map(Into::into).collect(),
            agents: o
                .agents
                .iter()
                .map(|s| AgentLoad {
                    status: wire::status(s),
                    load: s.chats.len() + s.offers.len(),
                })
                .collect(),
            chats: o.chats.iter().cloned().map(Into::into).collect(),
            truncated: o.truncated,
        }
    }
}

/// # `GET /agent/v1/supervisor`
pub(crate) async fn overview(
    State(st): State<AgentState>,
    Authed(id): Authed,
) -> Result<Response, ApiError> {
    let o = st.agents.supervisor_overview(&id).await?;
    Ok(Json(Overview::of(&o)).into_response())
}

/// # `POST /agent/v1/chats/{chatId}/monitor`
pub(crate) async fn monitor(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
) -> Result<Response, ApiError> {
    let view = st.agents.monitor(&id, &ChatId::new(chat)).await?;
    Ok(Json(wire::chat(&view)).into_response())
}

/// # `POST /agent/v1/chats/{chatId}/take-over`
pub(crate) async fn take_over(
    State(st): State<AgentState>,
    Authed(id): Authed,
    ApiPath(chat): ApiPath<String>,
) -> Result<Response, ApiError> {
    let view = st.agents.take_over(&id, &ChatId::new(chat)).await?;
    Ok(Json(wire::chat(&view)).into_response())
}
