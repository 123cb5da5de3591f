//! What a supervisor account (`role = "supervisor"`) does through the [`Agents`] handle: see
//! every queue, agent and live chat at once ([`SupervisorOverview`]), monitor a chat
//! silently (it is `monitored` for the customer; the supervisor's stream gets its events),
//! and take a chat over (the supervisor becomes its agent). Any other account is refused
//! with [`CoreError::Forbidden`].

use super::Agents;
use super::agents::{AgentChatView, AgentStatus};
use crate::error::CoreError;
use crate::ids::{AgentId, ChatId, QueueName, ServiceName};
pub use crate::routing::LiveState;

/// At most this many live chats are listed by [`Agents::supervisor_overview`] (the oldest).
pub const MAX_LISTED_CHATS: usize = 200;

/// One queue's load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOverview {
    /// The queue.
    pub queue: QueueName,
    /// Chats waiting in it (not offered).
    pub waiting: usize,
    /// Chats of it offered to an agent and not yet accepted.
    pub offered: usize,
    /// How long the chat waiting longest has waited (ms); `None` when none waits.
    pub longest_wait_ms: Option<i64>,
}

/// One live chat as a supervisor sees it.
#[derive(Debug, Clone)]
pub struct LiveChat {
    /// The chat.
    pub chat_id: ChatId,
    /// Its service.
    pub service: ServiceName,
    /// Its queue (the service's, for a chat with agents).
    pub queue: QueueName,
    /// Waiting, offered or with agents.
    pub state: LiveState,
    /// Since when it is in that state (epoch ms): a waiting or offered chat since it started
    /// waiting (kept when an offer fails); a chat with agents since the first of them joined.
    pub since_ms: i64,
    /// The accounts it is with (an active chat's agents, by id), with their names.
    pub agents: Vec<(AgentId, String)>,
    /// A supervisor monitors it.
    pub monitored: bool,
    /// The customer's nickname (`None` when the chat could not be read).
    pub customer: Option<String>,
    /// The subject the customer gave.
    pub subject: Option<String>,
}

/// Queues, agents and live chats at once.
#[derive(Debug, Clone)]
pub struct SupervisorOverview {
    /// Every configured queue, by name.
    pub queues: Vec<QueueOverview>,
    /// Every account, by id.
    pub agents: Vec<AgentStatus>,
    /// The live chats routing knows, oldest first, at most [`MAX_LISTED_CHATS`].
    pub chats: Vec<LiveChat>,
    /// More live chats exist than listed.
    pub truncated: bool,
}

impl Agents {
    /// Queues, agents and live chats (supervisors only).
    pub async fn supervisor_overview(
        &self,
        agent: &AgentId,
    ) -> Result<SupervisorOverview, CoreError> {
        self.engine.supervisor_overview(agent).await
    }

    /// Monitors a chat silently (supervisors only, logged in): a `Supervisor` participant
    /// with no transcript event; already monitoring changes nothing. Leaving is
    /// [`super::agents::AgentOp::Leave`], silent too; anything else it tries in the chat is
    /// refused with [`CoreError::Monitoring`].
    pub async fn monitor(
        &self,
        agent: &AgentId,
        chat: &ChatId,
    ) -> Result<AgentChatView, CoreError> {
        self.engine.monitor(agent, chat).await
    }

    /// Takes a chat over (supervisors only, logged in): the supervisor joins as `Agent`, the
    /// agents in it leave, and routing gives it to the supervisor (out of its queue, its
    /// offer withdrawn).
    pub async fn take_over(
        &self,
        agent: &AgentId,
        chat: &ChatId,
    ) -> Result<AgentChatView, CoreError> {
        self.engine.take_over(agent, chat).await
    }
}
