//! Routing: one FIFO queue per configured queue, agents with a capacity of concurrent chats,
//! and offers with a deadline. A waiting chat is offered to the ready agent that has gone
//! longest without receiving a chat; an offer not accepted in time goes back to the head of
//! its queue and the agent who missed it is set not ready.
//!
//! This module is pure state: every method returns the [`BusEvent`]s to publish and the
//! engine publishes them. Timers are driven by the engine's routing worker through
//! [`RouterState::expire`] and [`RouterState::next_deadline`].

mod agents;
mod queue;

pub use agents::AgentPresence;
pub use queue::Waiting;

use crate::bus::{BusEvent, OfferEnd};
use crate::ids::{AgentId, ChatId, QueueName, ServiceName};
use crate::settings::{AgentAccount, QueueSettings};
use std::collections::{HashMap, VecDeque};

/// An offer waiting for an agent's answer.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The offered agent.
    pub agent_id: AgentId,
    /// When it lapses.
    pub expires_ms: i64,
    /// The queue entry, put back if the offer fails.
    pub waiting: Waiting,
}

/// All routing state of one node.
#[derive(Debug, Default)]
pub struct RouterState {
    queues: HashMap<QueueName, (QueueSettings, VecDeque<Waiting>)>,
    agents: HashMap<AgentId, AgentPresence>,
    offers: HashMap<ChatId, Offer>,
}

impl RouterState {
    /// Builds the router from configuration.
    pub fn new(queues: &[QueueSettings], accounts: &[AgentAccount]) -> Self {
        Self {
            queues: queues
                .iter()
                .map(|q| (q.name.clone(), (q.clone(), VecDeque::new())))
                .collect(),
            agents: accounts
                .iter()
                .map(|a| (a.id.clone(), AgentPresence::new(a.clone())))
                .collect(),
            offers: HashMap::new(),
        }
    }

    /// The agent's presence, if the account exists.
    pub fn agent(&self, id: &AgentId) -> Option<&AgentPresence> {
        self.agents.get(id)
    }

    /// The pending offer of a chat.
    pub fn offer(&self, chat_id: &ChatId) -> Option<&Offer> {
        self.offers.get(chat_id)
    }

    /// All agent accounts.
    pub fn agents(&self) -> impl Iterator<Item = &AgentPresence> {
        self.agents.values()
    }

    /// Puts a chat at the back of its queue.
    pub fn enqueue(
        &mut self,
        queue: &QueueName,
        chat_id: ChatId,
        service: ServiceName,
        since_ms: i64,
    ) {
        if let Some((_, q)) = self.queues.get_mut(queue) {
            q.push_back(Waiting {
                chat_id,
                service,
                queue: queue.clone(),
                since_ms,
                declined_by: Vec::new(),
            });
        }
    }

    /// Position (0-based) of a chat in its queue, if waiting.
    pub fn queue_position(&self, chat_id: &ChatId) -> Option<usize> {
        self.queues
            .values()
            .find_map(|(_, q)| q.iter().position(|w| &w.chat_id == chat_id))
    }

    /// Whether a chat is waiting or offered.
    pub fn is_routing(&self, chat_id: &ChatId) -> bool {
        self.offers.contains_key(chat_id) || self.queue_position(chat_id).is_some()
    }

    /// Records that an agent already handles a chat (recovery after restart).
    pub fn restore_assignment(&mut self, agent: &AgentId, chat_id: ChatId) {
        if let Some(a) = self.agents.get_mut(agent) {
            a.chats.insert(chat_id);
        }
    }

    /// Marks an agent logged in (not ready).
    pub fn login(&mut self, agent: &AgentId, now_ms: i64) {
        if let Some(a) = self.agents.get_mut(agent)
            && !a.logged_in
        {
            a.logged_in = true;
            a.ready = false;
            a.idle_since_ms = now_ms;
        }
    }

    /// Logs an agent out: withdraws its offers and makes it not ready.
    pub fn logout(&mut self, agent: &AgentId) -> Vec<BusEvent> {
        let mut out = self.set_ready(agent, false);
        if let Some(a) = self.agents.get_mut(agent) {
            a.logged_in = false;
        }
        let offered: Vec<ChatId> = self
            .offers
            .iter()
            .filter(|(_, o)| &o.agent_id == agent)
            .map(|(c, _)| c.clone())
            .collect();
        for chat in offered {
            out.extend(self.withdraw(&chat, OfferEnd::Rejected));
        }
        out
    }

    /// Sets readiness; returns the state event when it changed.
    pub fn set_ready(&mut self, agent: &AgentId, ready: bool) -> Vec<BusEvent> {
        match self.agents.get_mut(agent) {
            Some(a) if a.ready != ready && (a.logged_in || !ready) => {
                a.ready = ready;
                vec![BusEvent::AgentState {
                    agent_id: agent.clone(),
                    ready,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// Accepts an offer: the chat becomes the agent's.
    pub fn accept(&mut self, agent: &AgentId, chat_id: &ChatId) -> Option<Offer> {
        let offer = self
            .offers
            .get(chat_id)
            .filter(|o| &o.agent_id == agent)?
            .clone();
        self.offers.remove(chat_id);
        if let Some(a) = self.agents.get_mut(agent) {
            a.offers.remove(chat_id);
            a.chats.insert(chat_id.clone());
        }
        Some(offer)
    }

    /// Puts an accepted chat back at the head of its queue (the join could not be committed).
    pub fn undo_accept(&mut self, agent: &AgentId, offer: Offer) {
        if let Some(a) = self.agents.get_mut(agent) {
            a.chats.remove(&offer.waiting.chat_id);
        }
        self.requeue_front(offer.waiting);
    }

    /// Rejects an offer: the chat goes back to the head of its queue, skipping this agent.
    pub fn reject(&mut self, agent: &AgentId, chat_id: &ChatId) -> Option<Vec<BusEvent>> {
        self.offers.get(chat_id).filter(|o| &o.agent_id == agent)?;
        Some(self.withdraw(chat_id, OfferEnd::Rejected))
    }

    fn withdraw(&mut self, chat_id: &ChatId, reason: OfferEnd) -> Vec<BusEvent> {
        let Some(mut offer) = self.offers.remove(chat_id) else {
            return Vec::new();
        };
        if let Some(a) = self.agents.get_mut(&offer.agent_id) {
            a.offers.remove(chat_id);
        }
        let event = BusEvent::OfferWithdrawn {
            agent_id: offer.agent_id.clone(),
            chat_id: chat_id.clone(),
            reason,
        };
        if reason != OfferEnd::ChatEnded {
            offer.waiting.declined_by.push(offer.agent_id.clone());
            self.requeue_front(offer.waiting);
        }
        vec![event]
    }

    fn requeue_front(&mut self, waiting: Waiting) {
        if let Some((_, q)) = self.queues.get_mut(&waiting.queue) {
            q.push_front(waiting);
        }
    }

    /// Forgets a chat that ended: out of queues, offers and agents' loads.
    pub fn chat_ended(&mut self, chat_id: &ChatId, now_ms: i64) -> Vec<BusEvent> {
        for (_, q) in self.queues.values_mut() {
            q.retain(|w| &w.chat_id != chat_id);
        }
        let out = self.withdraw(chat_id, OfferEnd::ChatEnded);
        for a in self.agents.values_mut() {
            if a.chats.remove(chat_id) && a.chats.is_empty() {
                a.idle_since_ms = now_ms;
            }
        }
        out
    }

    /// An agent left a chat that goes on.
    pub fn agent_left(&mut self, agent: &AgentId, chat_id: &ChatId, now_ms: i64) {
        if let Some(a) = self.agents.get_mut(agent)
            && a.chats.remove(chat_id)
            && a.chats.is_empty()
        {
            a.idle_since_ms = now_ms;
        }
    }

    /// Withdraws lapsed offers: each chat returns to the head of its queue and its agent is
    /// set not ready.
    pub fn expire(&mut self, now_ms: i64) -> Vec<BusEvent> {
        let lapsed: Vec<(ChatId, AgentId)> = self
            .offers
            .iter()
            .filter(|(_, o)| o.expires_ms <= now_ms)
            .map(|(c, o)| (c.clone(), o.agent_id.clone()))
            .collect();
        let mut out = Vec::new();
        for (chat, agent) in lapsed {
            out.extend(self.withdraw(&chat, OfferEnd::Timeout));
            out.extend(self.set_ready(&agent, false));
        }
        out
    }

    /// Earliest offer deadline.
    pub fn next_deadline(&self) -> Option<i64> {
        self.offers.values().map(|o| o.expires_ms).min()
    }

    /// Offers waiting chats to eligible agents, oldest chat first, longest-idle agent first.
    pub fn dispatch(&mut self, now_ms: i64) -> Vec<BusEvent> {
        let mut out = Vec::new();
        let names: Vec<QueueName> = self.queues.keys().cloned().collect();
        for name in names {
            let mut skipped = VecDeque::new();
            // Stop as soon as nobody can take a chat from this queue: without this, every new
            // chat would walk the whole queue while all agents are busy.
            while self
                .agents
                .values()
                .any(|a| a.available() && a.serves(&name))
                && let Some((settings, q)) = self.queues.get_mut(&name)
            {
                let timeout = settings.offer_timeout_ms;
                let Some(waiting) = q.pop_front() else { break };
                match self.pick_agent(&name, &waiting.declined_by) {
                    Some(agent_id) => {
                        if let Some(a) = self.agents.get_mut(&agent_id) {
                            a.offers.insert(waiting.chat_id.clone());
                            a.last_offer_ms = now_ms;
                        }
                        let expires_ms = now_ms + timeout;
                        out.push(BusEvent::Offered {
                            agent_id: agent_id.clone(),
                            chat_id: waiting.chat_id.clone(),
                            service: waiting.service.clone(),
                            expires_ms,
                        });
                        self.offers.insert(
                            waiting.chat_id.clone(),
                            Offer {
                                agent_id,
                                expires_ms,
                                waiting,
                            },
                        );
                    }
                    None => skipped.push_back(waiting),
                }
            }
            if let Some((_, q)) = self.queues.get_mut(&name) {
                skipped.append(q);
                *q = skipped;
            }
        }
        out
    }

    fn pick_agent(&self, queue: &QueueName, declined_by: &[AgentId]) -> Option<AgentId> {
        let eligible = |a: &&AgentPresence| {
            a.available() && a.serves(queue) && !declined_by.contains(&a.account.id)
        };
        let best = self
            .agents
            .values()
            .filter(eligible)
            .min_by_key(|a| (a.idle_key(), a.account.id.clone()));
        best.map(|a| a.account.id.clone()).or_else(|| {
            // Everyone eligible declined: offer again to the declining agents rather than stall.
            if declined_by.is_empty() {
                return None;
            }
            self.agents
                .values()
                .filter(|a| a.available() && a.serves(queue))
                .min_by_key(|a| (a.idle_key(), a.account.id.clone()))
                .filter(|_| {
                    self.agents
                        .values()
                        .filter(|a| a.serves(queue))
                        .all(|a| declined_by.contains(&a.account.id))
                })
                .map(|a| a.account.id.clone())
        })
    }
}

#[cfg(test)]
mod tests;
