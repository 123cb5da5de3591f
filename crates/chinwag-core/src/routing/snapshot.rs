//! The routing state as a compact, deterministic snapshot (JSON with one-letter fields), for
//! the shared [`RoutingStore`](crate::ports::RoutingStore): what nodes sharing a store save
//! and load. It holds only what changes (queue entries in order with their keys and waiting
//! times, agents' presence and load, offers with their deadlines); queue settings and agent
//! accounts come from each node's configuration, which must be the same on every node.
//!
//! Deterministic: the same state always encodes to the same bytes (maps are written sorted),
//! so the engine can tell that an operation changed nothing by comparing bytes. Agents never
//! logged in and with nothing to remember, and empty queues, are left out.

use super::agents::AgentPresence;
use super::queue::{Queue, Seq};
use super::{Offer, RouterState, Waiting};
use crate::ids::{AgentId, ChatId, QueueName, ServiceName};
use crate::settings::{AgentAccount, QueueSettings};
use serde::{Deserialize, Serialize};

/// Format of the snapshot; a node refuses a snapshot of another format.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Snap {
    #[serde(rename = "v")]
    format: u32,
    #[serde(rename = "q", default, skip_serializing_if = "Vec::is_empty")]
    queues: Vec<QueueSnap>,
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty")]
    agents: Vec<AgentSnap>,
    #[serde(rename = "o", default, skip_serializing_if = "Vec::is_empty")]
    offers: Vec<OfferSnap>,
}

#[derive(Serialize, Deserialize)]
struct QueueSnap {
    #[serde(rename = "n")]
    name: QueueName,
    #[serde(rename = "b")]
    back: Seq,
    #[serde(rename = "f")]
    front: Seq,
    #[serde(rename = "w")]
    waiting: Vec<(Seq, WaitSnap)>,
}

/// A queue entry (its queue is the one holding it, or the offer's `q`).
#[derive(Serialize, Deserialize)]
struct WaitSnap {
    #[serde(rename = "c")]
    chat_id: ChatId,
    #[serde(rename = "s")]
    service: ServiceName,
    #[serde(rename = "t")]
    since_ms: i64,
    #[serde(rename = "d", default, skip_serializing_if = "Vec::is_empty")]
    declined_by: Vec<AgentId>,
}

#[derive(Serialize, Deserialize)]
struct AgentSnap {
    #[serde(rename = "i")]
    id: AgentId,
    #[serde(rename = "l", default, skip_serializing_if = "is_false")]
    logged_in: bool,
    #[serde(rename = "r", default, skip_serializing_if = "is_false")]
    ready: bool,
    /// The not-ready reason (absent from snapshots written before reasons existed).
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(rename = "c", default, skip_serializing_if = "Vec::is_empty")]
    chats: Vec<ChatId>,
    #[serde(rename = "o", default, skip_serializing_if = "is_zero")]
    last_offer_ms: i64,
    #[serde(rename = "d", default, skip_serializing_if = "is_zero")]
    idle_since_ms: i64,
}

#[derive(Serialize, Deserialize)]
struct OfferSnap {
    #[serde(rename = "a")]
    agent_id: AgentId,
    #[serde(rename = "x")]
    expires_ms: i64,
    #[serde(rename = "q")]
    queue: QueueName,
    #[serde(rename = "w")]
    waiting: WaitSnap,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl WaitSnap {
    fn of(w: &Waiting) -> Self {
        Self {
            chat_id: w.chat_id.clone(),
            service: w.service.clone(),
            since_ms: w.since_ms,
            declined_by: w.declined_by.clone(),
        }
    }

    fn into_waiting(self, queue: QueueName) -> Waiting {
        Waiting {
            chat_id: self.chat_id,
            service: self.service,
            queue,
            since_ms: self.since_ms,
            declined_by: self.declined_by,
        }
    }
}

impl AgentSnap {
    fn of(a: &AgentPresence) -> Option<Self> {
        let mut chats: Vec<ChatId> = a.chats.iter().cloned().collect();
        chats.sort();
        let snap = Self {
            id: a.account.id.clone(),
            logged_in: a.logged_in,
            ready: a.ready,
            reason: a.reason.clone(),
            chats,
            last_offer_ms: a.last_offer_ms,
            idle_since_ms: a.idle_since_ms,
        };
        let blank = !snap.logged_in
            && !snap.ready
            && snap.reason.is_none()
            && snap.chats.is_empty()
            && snap.last_offer_ms == 0
            && snap.idle_since_ms == 0;
        (!blank).then_some(snap)
    }
}

impl RouterState {
    /// The state as snapshot bytes (O(state)).
    pub fn snapshot(&self) -> Vec<u8> {
        let queues = self
            .queues
            .iter()
            .filter_map(|(name, q)| {
                let waiting: Vec<(Seq, WaitSnap)> = q
                    .entries()
                    .into_iter()
                    .map(|(seq, w)| (seq, WaitSnap::of(w)))
                    .collect();
                let (back, front) = q.ends();
                (!waiting.is_empty()).then(|| QueueSnap {
                    name: name.clone(),
                    back,
                    front,
                    waiting,
                })
            })
            .collect();
        let mut agents: Vec<AgentSnap> = self.agents.values().filter_map(AgentSnap::of).collect();
        agents.sort_by(|a, b| a.id.cmp(&b.id));
        let mut offers: Vec<(&ChatId, &Offer)> = self.offers.iter().collect();
        offers.sort_by(|a, b| a.0.cmp(b.0));
        let snap = Snap {
            format: FORMAT,
            queues,
            agents,
            offers: offers
                .into_iter()
                .map(|(_, o)| OfferSnap {
                    agent_id: o.agent_id.clone(),
                    expires_ms: o.expires_ms,
                    queue: o.waiting.queue.clone(),
                    waiting: WaitSnap::of(&o.waiting),
                })
                .collect(),
        };
        // Plain data with string keys: encoding cannot fail.
        serde_json::to_vec(&snap).unwrap_or_default()
    }

    /// The state `bytes` (from [`Self::snapshot`]) describe, over this node's configured
    /// queues and agent accounts. Queues and agents the configuration does not name are
    /// left out (logged): every node must configure the same ones.
    pub fn restore(
        queues: &[QueueSettings],
        accounts: &[AgentAccount],
        bytes: &[u8],
    ) -> Result<Self, String> {
        let snap: Snap = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if snap.format != FORMAT {
            return Err(format!(
                "routing snapshot format {} (this node reads {FORMAT})",
                snap.format
            ));
        }
        let mut r = Self::new(queues, accounts);
        for q in snap.queues {
            let Some(settings) = queues.iter().find(|s| s.name == q.name) else {
                tracing::warn!(queue = %q.name, waiting = q.waiting.len(), "shared routing names a queue this node does not configure: left out");
                continue;
            };
            let entries: Vec<(Seq, Waiting)> = q
                .waiting
                .into_iter()
                .map(|(seq, w)| (seq, w.into_waiting(q.name.clone())))
                .collect();
            for (seq, w) in &entries {
                r.waiting.insert(w.chat_id.clone(), (q.name.clone(), *seq));
            }
            let restored = Queue::restored(settings.clone(), (q.back, q.front), entries);
            r.queues.insert(q.name, restored);
        }
        for a in snap.agents {
            let Some(p) = r.agents.get_mut(&a.id) else {
                tracing::warn!(agent = %a.id, "shared routing names an agent this node does not configure: left out");
                continue;
            };
            p.logged_in = a.logged_in;
            p.ready = a.ready;
            p.reason = a.reason;
            p.chats = a.chats.into_iter().collect();
            p.last_offer_ms = a.last_offer_ms;
            p.idle_since_ms = a.idle_since_ms;
        }
        for o in snap.offers {
            if let Some(p) = r.agents.get_mut(&o.agent_id) {
                p.offers.insert(o.waiting.chat_id.clone());
            }
            let waiting = o.waiting.into_waiting(o.queue);
            r.offers.insert(
                waiting.chat_id.clone(),
                Offer {
                    agent_id: o.agent_id,
                    expires_ms: o.expires_ms,
                    waiting,
                },
            );
        }
        Ok(r)
    }
}
