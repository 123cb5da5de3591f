//! Routing for a transfer: a chat offered to one agent directly (ready or not), or put at
//! the back of another queue. A direct offer is an ordinary [`Offer`]: accepted, it is the
//! agent's; rejected or lapsed, its chat goes to the head of the queue its [`Waiting`]
//! names (the chat's service's) and, lapsed, the agent is set not ready ("Missed offer").

use super::{Offer, RouterState, Waiting};
use crate::bus::BusEvent;
use crate::ids::{AgentId, ChatId, QueueName, ServiceName};

/// Why a direct offer could not be made (nothing changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectRefusal {
    /// No such agent account.
    NoSuchAgent,
    /// The agent is logged out, or its chats and offers fill its capacity.
    Unavailable,
    /// The chat is already waiting or offered.
    AlreadyRouted,
}

impl RouterState {
    /// Whether `agent` could be offered a chat directly now: logged in with room (ready or
    /// not).
    pub fn can_offer_to(&self, agent: &AgentId) -> Result<(), DirectRefusal> {
        match self.agents.get(agent) {
            None => Err(DirectRefusal::NoSuchAgent),
            Some(a) if a.logged_in && a.has_room() => Ok(()),
            Some(_) => Err(DirectRefusal::Unavailable),
        }
    }

    /// Offers `waiting`'s chat to `agent` now, for `timeout_ms`. Returns the offer event.
    pub fn offer_directly(
        &mut self,
        agent: &AgentId,
        waiting: Waiting,
        timeout_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<BusEvent>, DirectRefusal> {
        self.can_offer_to(agent)?;
        if self.is_routing(&waiting.chat_id) {
            return Err(DirectRefusal::AlreadyRouted);
        }
        let chat_id = waiting.chat_id.clone();
        if let Some(a) = self.agents.get_mut(agent) {
            a.offers.insert(chat_id.clone());
            a.last_offer_ms = now_ms;
        }
        let expires_ms = now_ms.saturating_add(timeout_ms);
        let event = BusEvent::Offered {
            agent_id: agent.clone(),
            chat_id: chat_id.clone(),
            service: waiting.service.clone(),
            expires_ms,
        };
        self.offers.insert(
            chat_id,
            Offer {
                agent_id: agent.clone(),
                expires_ms,
                waiting,
            },
        );
        Ok(vec![event])
    }

    /// Puts a chat at the head of `queue` (a transfer whose direct offer could not be made
    /// after all). Ignored for an unknown queue or a chat already waiting or offered.
    pub fn enqueue_front(
        &mut self,
        queue: &QueueName,
        chat_id: ChatId,
        service: ServiceName,
        since_ms: i64,
    ) {
        self.requeue_front(Waiting {
            chat_id,
            service,
            queue: queue.clone(),
            since_ms,
            declined_by: Vec::new(),
        });
    }
}
