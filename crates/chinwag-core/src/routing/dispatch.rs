//! Dispatch: offering waiting chats to agents, oldest chat first, longest-idle agent first.
//!
//! A pass walks each queue from its head while some agent serving it is available, offering
//! each chat it reaches and leaving skipped ones in place; it never copies or rebuilds the
//! queue. Only a declined chat can be skipped: one every available agent has already declined
//! or missed while an unavailable agent serving the queue has not (it waits for that agent).
//! A chat nobody declined is always offered when an agent is available, and those chats are
//! kept apart from declined ones (see `queue.rs`), so the walk reaches them without
//! stepping over declined chats.
//!
//! Skips are bounded: a pass skips at most [`MAX_SKIPS_PER_PASS`] declined chats per queue,
//! then only offers chats nobody declined. The cost of a pass is therefore
//! O((offers made + [`MAX_SKIPS_PER_PASS`]) × (agents + log n)) whatever the queue length,
//! even though dispatch runs after every routing change. The price: while more than that many
//! skipped chats sit ahead of it, a declined chat that an available agent could take waits
//! until the chats ahead are offered or end (or its maximum wait ends it); chats nobody
//! declined are never held back by skipped ones.

use super::{Offer, RouterState, Waiting};
use crate::bus::BusEvent;
use crate::ids::{AgentId, ChatId, QueueName};
use crate::routing::agents::AgentPresence;
use crate::routing::queue::{Queue, Seq};
use std::collections::HashMap;

/// Most declined chats one dispatch pass skips in one queue before it only offers chats
/// nobody declined.
pub const MAX_SKIPS_PER_PASS: usize = 32;

impl RouterState {
    /// Offers waiting chats to eligible agents, oldest chat first, longest-idle agent first.
    pub fn dispatch(&mut self, now_ms: i64) -> Vec<BusEvent> {
        let mut out = Vec::new();
        let Self {
            queues,
            agents,
            offers,
            waiting,
        } = self;
        for (name, queue) in queues.iter_mut() {
            let mut pass = Pass {
                name,
                queue,
                agents,
                offers,
                waiting,
                now_ms,
            };
            pass.run(&mut out);
        }
        out
    }
}

/// One queue's share of a dispatch pass.
struct Pass<'a> {
    name: &'a QueueName,
    queue: &'a mut Queue,
    agents: &'a mut HashMap<AgentId, AgentPresence>,
    offers: &'a mut HashMap<ChatId, Offer>,
    waiting: &'a mut HashMap<ChatId, (QueueName, Seq)>,
    now_ms: i64,
}

impl Pass<'_> {
    fn run(&mut self, out: &mut Vec<BusEvent>) {
        let mut skips = 0;
        let mut skipped_to: Option<Seq> = None;
        // Stop as soon as nobody can take a chat from this queue: while all agents are busy,
        // a pass costs one look at the agents, whatever is waiting.
        while self
            .agents
            .values()
            .any(|a| a.available() && a.serves(self.name))
        {
            let fresh = self.queue.first_fresh();
            let declined = if skips < MAX_SKIPS_PER_PASS {
                self.queue.next_declined(skipped_to)
            } else {
                None
            };
            let seq = match (fresh, declined) {
                (Some(f), Some(d)) => f.min(d),
                (Some(s), None) | (None, Some(s)) => s,
                (None, None) => break,
            };
            let Some(w) = self.queue.get(seq) else { break };
            let was_declined = !w.declined_by.is_empty();
            match pick_agent(self.agents, self.name, &w.declined_by) {
                Some(agent_id) => {
                    let Some(w) = self.queue.remove(seq) else {
                        break;
                    };
                    self.waiting.remove(&w.chat_id);
                    out.push(self.offer(agent_id, w));
                }
                None if was_declined => {
                    skips += 1;
                    skipped_to = Some(seq);
                }
                // Cannot happen (an agent is available and nobody declined the chat), but a
                // chat nobody declined must never be walked over.
                None => break,
            }
        }
    }

    fn offer(&mut self, agent_id: AgentId, waiting: Waiting) -> BusEvent {
        if let Some(a) = self.agents.get_mut(&agent_id) {
            a.offers.insert(waiting.chat_id.clone());
            a.last_offer_ms = self.now_ms;
        }
        let expires_ms = self.now_ms + self.queue.settings.offer_timeout_ms;
        let event = BusEvent::Offered {
            agent_id: agent_id.clone(),
            chat_id: waiting.chat_id.clone(),
            service: waiting.service.clone(),
            expires_ms,
        };
        self.offers.insert(
            waiting.chat_id.clone(),
            Offer {
                agent_id,
                expires_ms,
                waiting,
            },
        );
        event
    }
}

/// The agent to offer a chat to: the longest-idle available agent serving the queue who has
/// not declined it; if every agent serving the queue declined it, the longest-idle available
/// one anyway (rather than strand the chat); otherwise nobody for now.
fn pick_agent(
    agents: &HashMap<AgentId, AgentPresence>,
    queue: &QueueName,
    declined_by: &[AgentId],
) -> Option<AgentId> {
    let longest_idle = |exclude_decliners: bool| {
        agents
            .values()
            .filter(|a| a.available() && a.serves(queue))
            .filter(|a| !exclude_decliners || !declined_by.contains(&a.account.id))
            .min_by_key(|a| (a.idle_key(), a.account.id.clone()))
            .map(|a| a.account.id.clone())
    };
    longest_idle(true).or_else(|| {
        let all_declined = !declined_by.is_empty()
            && agents
                .values()
                .filter(|a| a.serves(queue))
                .all(|a| declined_by.contains(&a.account.id));
        if all_declined {
            longest_idle(false)
        } else {
            None
        }
    })
}
