//! An agent's presence as the router sees it: logged in, ready (or why not), load and idle
//! time.

use crate::ids::{ChatId, QueueName};
use crate::settings::AgentAccount;
use std::collections::HashSet;

/// Presence and load of one agent account.
#[derive(Debug, Clone)]
pub struct AgentPresence {
    /// The account.
    pub account: AgentAccount,
    /// Logged in to the agent API.
    pub logged_in: bool,
    /// Ready to receive offers.
    pub ready: bool,
    /// Why it is not ready (`None` when ready, logged out, or not said).
    pub reason: Option<String>,
    /// Chats the agent is in.
    pub chats: HashSet<ChatId>,
    /// Chats currently offered to the agent.
    pub offers: HashSet<ChatId>,
    /// When the agent last received an offer (epoch ms; 0 = never).
    pub last_offer_ms: i64,
    /// When the agent last became free of chats.
    pub idle_since_ms: i64,
}

impl AgentPresence {
    pub(crate) fn new(account: AgentAccount) -> Self {
        Self {
            account,
            logged_in: false,
            ready: false,
            reason: None,
            chats: HashSet::new(),
            offers: HashSet::new(),
            last_offer_ms: 0,
            idle_since_ms: 0,
        }
    }

    /// Ready, logged in and below capacity.
    pub fn available(&self) -> bool {
        self.logged_in && self.ready && self.has_room()
    }

    /// Chats and offers below capacity (ready or not).
    pub fn has_room(&self) -> bool {
        self.chats.len() + self.offers.len() < self.account.capacity as usize
    }

    /// Takes chats from this queue.
    pub fn serves(&self, queue: &QueueName) -> bool {
        self.account.queues.contains(queue)
    }

    /// Sort key for "longest idle first": least recent offer, then fewest chats.
    pub(crate) fn idle_key(&self) -> (i64, usize) {
        (self.last_offer_ms.max(self.idle_since_ms), self.chats.len())
    }
}
