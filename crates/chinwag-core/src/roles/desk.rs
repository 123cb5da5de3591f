//! An agent's desk, as the agent handle offers it: readiness with a reason (from the
//! configured not-ready reasons), the canned responses of the queues it serves, and blind
//! transfer of a chat it is in to a queue or to another agent.

use super::Agents;
use super::agents::AgentStatus;
use crate::error::CoreError;
use crate::event::Event;
use crate::ids::{AgentId, ChatId, QueueName};
use crate::settings::CannedResponse;
use thiserror::Error;

/// Where a chat is transferred to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTarget {
    /// The back of this queue: offered to the agents serving it.
    Queue(QueueName),
    /// This agent, offered at once (ready or not).
    Agent(AgentId),
}

/// Why a transfer's target was refused (nothing changed).
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum TransferError {
    /// No configured queue has that name.
    #[error("no such queue")]
    NoSuchQueue,
    /// No agent account has that id.
    #[error("no such agent")]
    NoSuchAgent,
    /// The agent is logged out or has no free capacity.
    #[error("that agent is not logged in or has no room for another chat")]
    AgentUnavailable,
}

/// The canned responses of one queue.
#[derive(Debug, Clone)]
pub struct CannedQueue {
    /// The queue.
    pub queue: QueueName,
    /// Its responses, in configured order.
    pub responses: Vec<CannedResponse>,
}

impl Agents {
    /// Sets readiness; when not ready, `reason` must be one of the configured not-ready
    /// reasons (the first when `None`); a reason with `ready` is refused. The agent must be
    /// logged in.
    pub async fn set_state(
        &self,
        agent: &AgentId,
        ready: bool,
        reason: Option<&str>,
    ) -> Result<AgentStatus, CoreError> {
        self.engine.agent_set_state(agent, ready, reason).await
    }

    /// The configured not-ready reasons, the default first.
    pub fn not_ready_reasons(&self) -> &[String] {
        self.engine.not_ready_reasons()
    }

    /// The canned responses of the queues the agent serves (a supervisor: of every queue),
    /// queues by name.
    pub fn canned(&self, agent: &AgentId) -> Result<Vec<CannedQueue>, CoreError> {
        self.engine.canned_for(agent)
    }

    /// Transfers a chat the agent is in: it leaves (its `ParticipantLeft` is returned) and
    /// the chat goes to `target`. The target is checked before anything changes.
    pub async fn transfer(
        &self,
        agent: &AgentId,
        chat: &ChatId,
        target: TransferTarget,
    ) -> Result<Vec<Event>, CoreError> {
        self.engine.agent_transfer(agent, chat, target).await
    }
}
