//! What the engine needs to know about services, queues and agent accounts. The binary
//! builds these from its configuration file.

use crate::ids::{AgentId, QueueName, ServiceName};

/// One chat service (`/genesys/2/chat/{name}`).
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Service name.
    pub name: ServiceName,
    /// Queue its chats are routed to.
    pub queue: QueueName,
    /// Open sessions allowed at once; beyond it requestChat fails (GMS code 240).
    pub max_sessions: usize,
    /// Longest message, notice or typing preview, in characters (GMS code 204).
    pub max_message_length: usize,
    /// Taken out of service by the operator: every request answers "unavailable" (GMS 503).
    pub maintenance: bool,
}

/// One routing queue.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Queue name.
    pub name: QueueName,
    /// How long an agent has to accept an offer before it goes to someone else.
    pub offer_timeout_ms: i64,
    /// Longest a chat may wait in the queue (not counting time under offer) before it is
    /// ended; `None` = no limit.
    pub max_wait_ms: Option<i64>,
}

/// The role an account joins chats with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentRole {
    /// Joins as `Agent`.
    Agent,
    /// Joins as `Supervisor` (the chat is then `monitored`).
    Supervisor,
}

/// An agent account.
#[derive(Debug, Clone)]
pub struct AgentAccount {
    /// Account id.
    pub id: AgentId,
    /// Nickname shown to customers.
    pub name: String,
    /// Login token (a secret).
    pub token: String,
    /// Queues the agent takes chats from.
    pub queues: Vec<QueueName>,
    /// Concurrent chats the agent can handle.
    pub capacity: u32,
    /// Role in chats.
    pub role: AgentRole,
}

/// Everything the engine is configured with.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// This node's id (GMS `alias`, health `app_dbid`).
    pub alias: crate::ids::NodeAlias,
    /// Chat services.
    pub services: Vec<ServiceSettings>,
    /// Routing queues.
    pub queues: Vec<QueueSettings>,
    /// Agent accounts.
    pub agents: Vec<AgentAccount>,
    /// How long ended sessions stay readable before they are purged.
    pub ended_retention_ms: i64,
    /// Push notifications.
    pub push: crate::push::PushSettings,
}
