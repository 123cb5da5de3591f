//! [`Routing`]: queues and agents as routing has them, for supervision: how many chats
//! wait, how many are offered, and each agent's presence, chats and offers.

use crate::ChatEngine;
use crate::error::CoreError;
use crate::roles::agents::AgentStatus;
use std::sync::Arc;

/// Routing as it stands.
#[derive(Debug, Clone)]
pub struct RoutingOverview {
    /// Chats waiting in a queue (not offered).
    pub waiting: usize,
    /// Chats offered to an agent and not yet accepted.
    pub offered: usize,
    /// Every agent account, by id.
    pub agents: Vec<AgentStatus>,
}

/// The routing (supervision) handle: cheap to clone.
#[derive(Clone, Debug)]
pub struct Routing {
    engine: Arc<ChatEngine>,
}

impl Routing {
    pub(super) fn new(engine: Arc<ChatEngine>) -> Self {
        Self { engine }
    }

    /// Routing as it stands (a shared routing state is brought up to date first: one store
    /// read when nothing changed).
    pub async fn overview(&self) -> Result<RoutingOverview, CoreError> {
        self.engine.routing_overview().await
    }

    /// Whether routing is shared with other nodes (one routing state on a shared store).
    pub fn is_shared(&self) -> bool {
        self.engine.routing_is_shared()
    }
}
