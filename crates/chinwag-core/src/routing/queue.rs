//! A chat waiting in a queue.

use crate::ids::{AgentId, ChatId, QueueName, ServiceName};

/// One waiting chat.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// The chat.
    pub chat_id: ChatId,
    /// Its service.
    pub service: ServiceName,
    /// Its queue.
    pub queue: QueueName,
    /// When it started waiting (epoch ms).
    pub since_ms: i64,
    /// Agents who declined or missed it, skipped while others are available.
    pub declined_by: Vec<AgentId>,
}
