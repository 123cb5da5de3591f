//! The agent's desk in the engine: readiness with a configured not-ready reason, the canned
//! responses of the queues an agent serves, and the queue a chat view names.

use super::ChatEngine;
use super::agent::{logged_in, status_of};
use crate::error::CoreError;
use crate::ids::{AgentId, QueueName, ServiceName};
use crate::roles::agents::{AgentChatView, AgentStatus};
use crate::roles::desk::CannedQueue;
use crate::settings::AgentRole;

impl ChatEngine {
    /// Sets readiness and the not-ready reason (see [`crate::roles::Agents::set_state`]).
    pub(crate) async fn agent_set_state(
        &self,
        agent: &AgentId,
        ready: bool,
        reason: Option<&str>,
    ) -> Result<AgentStatus, CoreError> {
        let desk = &self.settings.desk;
        let reason = match (ready, reason) {
            (true, Some(_)) => {
                return Err(CoreError::InvalidArgument(
                    "a reason is given only with \"ready\": false".into(),
                ));
            }
            (true, None) => None,
            (false, None) => Some(desk.default_reason()),
            (false, Some(r)) if desk.not_ready_reasons.iter().any(|k| k == r) => Some(r),
            (false, Some(_)) => {
                return Err(CoreError::InvalidArgument(format!(
                    "reason must be one of: {}",
                    desk.not_ready_reasons.join(", ")
                )));
            }
        };
        self.route(|r, _| match logged_in(r, agent) {
            Ok(()) => {
                let events = r.set_state(agent, ready, reason);
                (Ok(status_of(r, agent)), events)
            }
            Err(e) => (Err(e), Vec::new()),
        })
        .await?
    }

    /// The configured not-ready reasons, the default first.
    pub(crate) fn not_ready_reasons(&self) -> &[String] {
        &self.settings.desk.not_ready_reasons
    }

    /// The canned responses of the queues `agent` serves (a supervisor: every queue), in
    /// the order of the configured queues (by name: the configuration keeps them sorted).
    pub(crate) fn canned_for(&self, agent: &AgentId) -> Result<Vec<CannedQueue>, CoreError> {
        let account = self
            .settings
            .agents
            .iter()
            .find(|a| &a.id == agent)
            .ok_or(CoreError::Unauthorized)?;
        let all = account.role == AgentRole::Supervisor;
        Ok(self
            .settings
            .queues
            .iter()
            .filter(|q| all || account.queues.contains(&q.name))
            .map(|q| CannedQueue {
                queue: q.name.clone(),
                responses: self.settings.desk.canned_of(&q.name).to_vec(),
            })
            .collect())
    }

    /// The queue the chats of `service` are routed to.
    pub(super) fn queue_of(&self, service: &ServiceName) -> Option<QueueName> {
        self.service(service.as_str()).map(|s| s.queue.clone())
    }

    /// `view` naming the queue of its chat's service.
    pub(super) fn with_queue(&self, mut view: AgentChatView) -> AgentChatView {
        if let Some(q) = self.queue_of(&view.service) {
            view.queue = q;
        }
        view
    }
}
