//! Routing: one FIFO queue per configured queue, agents with a capacity of concurrent chats,
//! offers with a deadline, and an optional maximum wait per queue. A waiting chat is offered
//! to the ready agent that has gone longest without receiving a chat; an offer not accepted
//! in time goes back to the head of its queue and the agent who missed it is set not ready
//! (reason "Missed offer"). A chat can also be offered to one agent directly (a transfer,
//! `direct.rs`).
//!
//! This module is pure state: every method returns the [`BusEvent`]s to publish and the
//! engine publishes them. Timers are driven by the engine's routing worker through
//! [`RouterState::expire`], [`RouterState::overdue`] and [`RouterState::next_deadline`].
//!
//! Cost: every per-chat operation (enqueue, put back at the head, remove an ended chat,
//! "is it waiting or offered", each offer made by dispatch, each overdue chat) is O(log n) in
//! the number of waiting chats n; nothing copies or rebuilds a queue (see `queue.rs` for the
//! layout, `dispatch.rs` for the bounded walk). Costs linear in the number of configured agents
//! or in pending offers (at most the agents' total capacity) remain; neither grows with
//! waiting chats. Only [`RouterState::queue_position`] is O(position); nothing on a request
//! path calls it.

mod agents;
mod direct;
mod dispatch;
mod queue;
mod snapshot;
mod supervise;

pub use agents::AgentPresence;
pub use direct::DirectRefusal;
pub use dispatch::MAX_SKIPS_PER_PASS;
pub use queue::Waiting;
pub use supervise::{LiveEntry, LiveState, QueueLoad};

use crate::bus::{BusEvent, OfferEnd};
use crate::ids::{AgentId, ChatId, QueueName, ServiceName};
use crate::settings::{AgentAccount, MISSED_OFFER, QueueSettings};
use queue::{Queue, Seq};
use std::collections::{BTreeMap, HashMap};

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

/// All routing state: of one node, or (saved as a snapshot, see `snapshot.rs`) shared by
/// every node on one store.
#[derive(Debug, Default, Clone)]
pub struct RouterState {
    queues: BTreeMap<QueueName, Queue>,
    agents: HashMap<AgentId, AgentPresence>,
    offers: HashMap<ChatId, Offer>,
    /// Where each waiting (not offered) chat sits.
    waiting: HashMap<ChatId, (QueueName, Seq)>,
}

impl RouterState {
    /// Builds the router from configuration.
    pub fn new(queues: &[QueueSettings], accounts: &[AgentAccount]) -> Self {
        Self {
            queues: queues
                .iter()
                .map(|q| (q.name.clone(), Queue::new(q.clone())))
                .collect(),
            agents: accounts
                .iter()
                .map(|a| (a.id.clone(), AgentPresence::new(a.clone())))
                .collect(),
            offers: HashMap::new(),
            waiting: HashMap::new(),
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

    /// Number of chats waiting in all queues (not counting offered ones).
    pub fn waiting_count(&self) -> usize {
        self.waiting.len()
    }

    /// Puts a chat at the back of its queue. Ignored for an unknown queue or a chat that is
    /// already waiting or offered (it keeps its place).
    pub fn enqueue(
        &mut self,
        queue: &QueueName,
        chat_id: ChatId,
        service: ServiceName,
        since_ms: i64,
    ) {
        if self.is_routing(&chat_id) {
            return;
        }
        if let Some(q) = self.queues.get_mut(queue) {
            let seq = q.push_back(Waiting {
                chat_id: chat_id.clone(),
                service,
                queue: queue.clone(),
                since_ms,
                declined_by: Vec::new(),
            });
            self.waiting.insert(chat_id, (queue.clone(), seq));
        }
    }

    /// Position (0-based) of a chat in its queue, if waiting. O(position).
    pub fn queue_position(&self, chat_id: &ChatId) -> Option<usize> {
        let (name, seq) = self.waiting.get(chat_id)?;
        self.queues.get(name).map(|q| q.position(*seq))
    }

    /// Whether a chat is waiting or offered.
    pub fn is_routing(&self, chat_id: &ChatId) -> bool {
        self.offers.contains_key(chat_id) || self.waiting.contains_key(chat_id)
    }

    /// Records that an agent already handles a chat (recovery after restart).
    pub fn restore_assignment(&mut self, agent: &AgentId, chat_id: ChatId) {
        if let Some(a) = self.agents.get_mut(agent) {
            a.chats.insert(chat_id);
        }
    }

    /// Marks an agent logged in (not ready, for no reason given yet).
    pub fn login(&mut self, agent: &AgentId, now_ms: i64) {
        if let Some(a) = self.agents.get_mut(agent)
            && !a.logged_in
        {
            a.logged_in = true;
            a.ready = false;
            a.reason = None;
            a.idle_since_ms = now_ms;
        }
    }

    /// Gives a logged-in, not-ready agent without a reason this one (no event: as at login).
    pub fn default_reason(&mut self, agent: &AgentId, reason: &str) {
        if let Some(a) = self.agents.get_mut(agent)
            && a.logged_in
            && !a.ready
            && a.reason.is_none()
        {
            a.reason = Some(reason.to_owned());
        }
    }

    /// Logs an agent out: withdraws its offers and makes it not ready.
    pub fn logout(&mut self, agent: &AgentId) -> Vec<BusEvent> {
        let mut out = self.set_ready(agent, false);
        let offered: Vec<ChatId> = match self.agents.get_mut(agent) {
            Some(a) => {
                a.logged_in = false;
                a.offers.iter().cloned().collect()
            }
            None => Vec::new(),
        };
        for chat in self.newest_first(offered) {
            out.extend(self.withdraw(&chat, OfferEnd::Rejected));
        }
        out
    }

    /// Sets readiness (no reason); returns the state event when it changed.
    pub fn set_ready(&mut self, agent: &AgentId, ready: bool) -> Vec<BusEvent> {
        self.set_state(agent, ready, None)
    }

    /// Sets readiness and, when not ready, why (`reason` is dropped when ready); returns the
    /// state event when either changed. A logged-out agent cannot become ready.
    pub fn set_state(
        &mut self,
        agent: &AgentId,
        ready: bool,
        reason: Option<&str>,
    ) -> Vec<BusEvent> {
        let reason = reason.filter(|_| !ready);
        match self.agents.get_mut(agent) {
            Some(a)
                if (a.ready != ready || a.reason.as_deref() != reason)
                    && (a.logged_in || !ready) =>
            {
                a.ready = ready;
                a.reason = reason.map(str::to_owned);
                vec![BusEvent::AgentState {
                    agent_id: agent.clone(),
                    ready,
                    reason: a.reason.clone(),
                }]
            }
            _ => Vec::new(),
        }
    }

    /// Accepts an offer: the chat becomes the agent's.
    pub fn accept(&mut self, agent: &AgentId, chat_id: &ChatId) -> Option<Offer> {
        self.offers.get(chat_id).filter(|o| &o.agent_id == agent)?;
        let offer = self.offers.remove(chat_id)?;
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
        // An ended chat, or one a supervisor took over, waits for nobody.
        if !matches!(reason, OfferEnd::ChatEnded | OfferEnd::TakenOver) {
            if !offer.waiting.declined_by.contains(&offer.agent_id) {
                offer.waiting.declined_by.push(offer.agent_id);
            }
            self.requeue_front(offer.waiting);
        }
        vec![event]
    }

    /// Puts a chat at the head of its queue, keeping its `since_ms`.
    fn requeue_front(&mut self, waiting: Waiting) {
        if self.is_routing(&waiting.chat_id) {
            return;
        }
        if let Some(q) = self.queues.get_mut(&waiting.queue) {
            let (chat_id, name) = (waiting.chat_id.clone(), waiting.queue.clone());
            let seq = q.push_front(waiting);
            self.waiting.insert(chat_id, (name, seq));
        }
    }

    /// Orders offered chats so that putting each at the head in turn leaves the one that has
    /// waited longest first.
    fn newest_first(&self, mut chats: Vec<ChatId>) -> Vec<ChatId> {
        let since = |c: &ChatId| self.offers.get(c).map_or(0, |o| o.waiting.since_ms);
        chats.sort_by(|a, b| since(b).cmp(&since(a)).then_with(|| b.cmp(a)));
        chats
    }

    /// Forgets a chat that ended: out of queues, offers and agents' loads.
    pub fn chat_ended(&mut self, chat_id: &ChatId, now_ms: i64) -> Vec<BusEvent> {
        if let Some((name, seq)) = self.waiting.remove(chat_id)
            && let Some(q) = self.queues.get_mut(&name)
        {
            q.remove(seq);
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
        let lapsed: Vec<ChatId> = self
            .offers
            .iter()
            .filter(|(_, o)| o.expires_ms <= now_ms)
            .map(|(c, _)| c.clone())
            .collect();
        let mut out = Vec::new();
        for chat in self.newest_first(lapsed) {
            let agent = self.offers.get(&chat).map(|o| o.agent_id.clone());
            out.extend(self.withdraw(&chat, OfferEnd::Timeout));
            if let Some(agent) = agent {
                out.extend(self.set_state(&agent, false, Some(MISSED_OFFER)));
            }
        }
        out
    }

    /// Takes out and returns the waiting chats that have waited their queue's maximum wait
    /// (`since_ms + max_wait_ms <= now_ms`), oldest first per queue. Offered chats are not
    /// overdue: they wait for the agent's answer. O(k log n) for k overdue chats.
    pub fn overdue(&mut self, now_ms: i64) -> Vec<Waiting> {
        let mut out = Vec::new();
        for q in self.queues.values_mut() {
            while let Some(w) = q.pop_overdue(now_ms) {
                self.waiting.remove(&w.chat_id);
                out.push(w);
            }
        }
        out
    }

    /// Earliest deadline: an offer lapsing or a waiting chat reaching its maximum wait.
    pub fn next_deadline(&self) -> Option<i64> {
        let offers = self.offers.values().map(|o| o.expires_ms);
        let waits = self.queues.values().filter_map(Queue::wait_deadline);
        offers.chain(waits).min()
    }

    /// The chats of a queue in order, head first (O(n)).
    #[cfg(test)]
    fn order(&self, queue: &QueueName) -> Vec<ChatId> {
        self.queues.get(queue).map(Queue::order).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_direct;
#[cfg(test)]
mod tests_queue;
#[cfg(test)]
mod tests_scale;
#[cfg(test)]
mod tests_snapshot;
