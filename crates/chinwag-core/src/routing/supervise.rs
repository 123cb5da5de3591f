//! Routing as a supervisor sees and changes it: each queue's load (waiting, offered, since
//! when the longest-waiting chat waits), the live chats routing knows (waiting, offered, or
//! with agents), and a supervisor taking a chat over (out of its queue or its offer
//! withdrawn, no longer its agents' load, the supervisor's from then on).
//!
//! Cost: [`RouterState::queue_loads`] is O(queues + offers); [`RouterState::live_chats`]
//! takes at most `limit` waiting chats per queue (O(limit log n) each) plus every offered
//! and active chat, which the agents' capacities bound (a supervisor's take-overs aside);
//! it never walks the whole of a long queue.

use super::RouterState;
use crate::bus::{BusEvent, OfferEnd};
use crate::ids::{AgentId, ChatId, QueueName, ServiceName};
use std::collections::BTreeMap;

/// Where a live chat stands in routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    /// In its queue.
    Waiting,
    /// Offered to an agent who has not answered yet.
    Offered,
    /// With one or more agents.
    Active,
}

/// One queue's load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueLoad {
    /// The queue.
    pub queue: QueueName,
    /// Chats waiting in it (not offered).
    pub waiting: usize,
    /// Chats of it offered to an agent.
    pub offered: usize,
    /// Since when the chat waiting longest waits (epoch ms); `None` when none waits.
    pub oldest_since_ms: Option<i64>,
}

/// A live chat as routing knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEntry {
    /// The chat.
    pub chat_id: ChatId,
    /// Where it stands.
    pub state: LiveState,
    /// A waiting or offered chat's queue, service and the time it started waiting (kept
    /// when an offer fails); `None` for an active chat (its record tells).
    pub queued: Option<(QueueName, ServiceName, i64)>,
    /// The agents it is with (active chats), by id.
    pub agents: Vec<AgentId>,
}

impl RouterState {
    /// Each queue's load, by queue name.
    pub fn queue_loads(&self) -> Vec<QueueLoad> {
        let mut loads: Vec<QueueLoad> = self
            .queues
            .iter()
            .map(|(name, q)| QueueLoad {
                queue: name.clone(),
                waiting: q.waiting_len(),
                offered: 0,
                oldest_since_ms: q.by_wait().next().map(|w| w.since_ms),
            })
            .collect();
        for o in self.offers.values() {
            if let Some(l) = loads.iter_mut().find(|l| l.queue == o.waiting.queue) {
                l.offered += 1;
            }
        }
        loads
    }

    /// The live chats routing knows, and how many there are: every offered and active chat,
    /// and the `limit` longest-waiting chats of each queue (so the `limit` oldest of all,
    /// whatever the active chats' ages, are among them). In no particular order.
    pub fn live_chats(&self, limit: usize) -> (Vec<LiveEntry>, usize) {
        let mut out: Vec<LiveEntry> = Vec::new();
        for q in self.queues.values() {
            out.extend(q.by_wait().take(limit).map(|w| LiveEntry {
                chat_id: w.chat_id.clone(),
                state: LiveState::Waiting,
                queued: Some((w.queue.clone(), w.service.clone(), w.since_ms)),
                agents: Vec::new(),
            }));
        }
        out.extend(self.offers.iter().map(|(chat, o)| LiveEntry {
            chat_id: chat.clone(),
            state: LiveState::Offered,
            queued: Some((
                o.waiting.queue.clone(),
                o.waiting.service.clone(),
                o.waiting.since_ms,
            )),
            agents: Vec::new(),
        }));
        let mut active: BTreeMap<&ChatId, Vec<AgentId>> = BTreeMap::new();
        for a in self.agents.values() {
            for c in a.chats.iter().filter(|c| !self.is_routing(c)) {
                active.entry(c).or_default().push(a.account.id.clone());
            }
        }
        let total = self.waiting.len() + self.offers.len() + active.len();
        out.extend(active.into_iter().map(|(chat, mut agents)| {
            agents.sort();
            LiveEntry {
                chat_id: chat.clone(),
                state: LiveState::Active,
                queued: None,
                agents,
            }
        }));
        (out, total)
    }

    /// `supervisor` takes `chat_id` over: it leaves its queue, its pending offer is
    /// withdrawn (`TakenOver`, and it does not go back to the queue), it no longer counts
    /// for any other agent who had it, and it is the supervisor's chat from now on (its
    /// capacity is not enforced). Returns the withdrawal to publish, if there was an offer.
    pub fn take_over(
        &mut self,
        supervisor: &AgentId,
        chat_id: &ChatId,
        now_ms: i64,
    ) -> Vec<BusEvent> {
        if let Some((name, seq)) = self.waiting.remove(chat_id)
            && let Some(q) = self.queues.get_mut(&name)
        {
            q.remove(seq);
        }
        let out = self.withdraw(chat_id, OfferEnd::TakenOver);
        // Every other holder, not only the agents the commit removed: a retry after a failed
        // routing step removes nobody from the chat, but routing still has them.
        let holders: Vec<AgentId> = self
            .agents
            .values()
            .filter(|a| &a.account.id != supervisor && a.chats.contains(chat_id))
            .map(|a| a.account.id.clone())
            .collect();
        for a in &holders {
            self.agent_left(a, chat_id, now_ms);
        }
        if let Some(s) = self.agents.get_mut(supervisor) {
            s.chats.insert(chat_id.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{account, chat, q, ready, router};
    use super::*;

    fn sup() -> AgentId {
        AgentId::new("boss")
    }

    #[test]
    fn loads_count_waiting_and_offered_and_the_longest_wait() {
        let mut r = router(&[account("a", 1), account("boss", 1)]);
        for (n, since) in [(1, 500), (2, 100), (3, 300)] {
            r.enqueue(&q(), chat(n), ServiceName::new("svc"), since);
        }
        // Chat 1 (at the head) goes to `a`; 2 and 3 wait, 2 the longest.
        ready(&mut r, "a", 1000);
        r.dispatch(1000);
        let loads = r.queue_loads();
        assert_eq!(
            loads,
            [QueueLoad {
                queue: q(),
                waiting: 2,
                offered: 1,
                oldest_since_ms: Some(100),
            }]
        );
        let (chats, total) = r.live_chats(10);
        assert_eq!(total, 3);
        let offered: Vec<_> = chats
            .iter()
            .filter(|c| c.state == LiveState::Offered)
            .map(|c| c.chat_id.clone())
            .collect();
        assert_eq!(offered, [chat(1)]);
    }

    #[test]
    fn live_chats_take_the_longest_waiting_of_a_long_queue_only() {
        let mut r = router(&[account("a", 1)]);
        for n in 0..50 {
            r.enqueue(&q(), chat(n), ServiceName::new("svc"), 1000 - i64::from(n));
        }
        let (chats, total) = r.live_chats(3);
        assert_eq!(total, 50);
        let ids: Vec<_> = chats.iter().map(|c| c.chat_id.clone()).collect();
        assert_eq!(ids, [chat(49), chat(48), chat(47)]);
    }

    #[test]
    fn a_take_over_withdraws_the_offer_for_good_and_moves_the_chat() {
        let mut r = router(&[account("a", 1), account("boss", 1)]);
        r.enqueue(&q(), chat(1), ServiceName::new("svc"), 0);
        ready(&mut r, "a", 10);
        assert_eq!(r.dispatch(10).len(), 1);
        let events = r.take_over(&sup(), &chat(1), 20);
        assert!(matches!(
            events.as_slice(),
            [BusEvent::OfferWithdrawn { agent_id, reason: OfferEnd::TakenOver, .. }]
                if agent_id.as_str() == "a"
        ));
        assert!(!r.is_routing(&chat(1)), "not queued again");
        assert!(r.dispatch(30).is_empty());
        assert!(r.agent(&sup()).is_some_and(|s| s.chats.contains(&chat(1))));
        let (chats, _) = r.live_chats(10);
        assert_eq!(chats[0].state, LiveState::Active);
        assert_eq!(chats[0].agents, [sup()]);
    }

    #[test]
    fn a_take_over_takes_a_waiting_chat_out_and_frees_its_agents() {
        let mut r = router(&[account("a", 1), account("boss", 1)]);
        r.enqueue(&q(), chat(1), ServiceName::new("svc"), 0);
        r.restore_assignment(&AgentId::new("a"), chat(2));
        assert!(r.take_over(&sup(), &chat(1), 5).is_empty());
        assert_eq!(r.waiting_count(), 0);
        r.take_over(&sup(), &chat(2), 5);
        assert!(
            r.agent(&AgentId::new("a"))
                .is_some_and(|a| a.chats.is_empty())
        );
        assert_eq!(r.agent(&sup()).map(|s| s.chats.len()), Some(2));
        // The shared snapshot carries it.
        let back = RouterState::restore(
            &[crate::settings::QueueSettings {
                name: q(),
                offer_timeout_ms: 1000,
                max_wait_ms: None,
            }],
            &[account("a", 1), account("boss", 1)],
            &r.snapshot(),
        );
        assert!(back.is_ok_and(
            |b| b.agent(&sup()).is_some_and(|s| s.chats.len() == 2) && b.waiting_count() == 0
        ));
    }
}
