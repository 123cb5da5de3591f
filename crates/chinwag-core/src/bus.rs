//! Outbound events: what the engine tells the rest of the system after a change is committed.
//! Adapters (agent event stream, later CometD and push) consume these; the engine never calls
//! an adapter directly.

use crate::event::Event;
use crate::ids::{AgentId, ChatId, EventIndex, ParticipantId, ServiceName};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Why an offer was withdrawn from an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferEnd {
    /// The agent did not accept in time.
    Timeout,
    /// The agent rejected it.
    Rejected,
    /// The customer left before anyone accepted.
    ChatEnded,
    /// A supervisor took the chat over.
    TakenOver,
}

/// One notification published by the engine.
#[derive(Clone, Debug)]
pub enum BusEvent {
    /// A transcript event was committed.
    Transcript {
        /// The chat.
        chat_id: ChatId,
        /// Agents present in the chat when the event was committed.
        agents: Arc<[AgentId]>,
        /// The event.
        event: Arc<Event>,
        /// The chat had ended once this event was applied.
        ended: bool,
        /// A supervisor was present once this event was applied.
        monitored: bool,
    },
    /// A chat was offered to an agent.
    Offered {
        /// The agent.
        agent_id: AgentId,
        /// The chat.
        chat_id: ChatId,
        /// Its service.
        service: ServiceName,
        /// When the offer lapses (epoch ms).
        expires_ms: i64,
    },
    /// An offer was withdrawn.
    OfferWithdrawn {
        /// The agent.
        agent_id: AgentId,
        /// The chat.
        chat_id: ChatId,
        /// Why.
        reason: OfferEnd,
    },
    /// An agent's readiness changed (by request, or by the router after a missed offer).
    AgentState {
        /// The agent.
        agent_id: AgentId,
        /// Ready for offers.
        ready: bool,
        /// Why not ready (`None` when ready or logged out).
        reason: Option<String>,
    },
    /// A participant acknowledged reading up to an index.
    ReadReceipt {
        /// The chat.
        chat_id: ChatId,
        /// Agents present.
        agents: Arc<[AgentId]>,
        /// Who read.
        participant_id: ParticipantId,
        /// Up to which event.
        index: EventIndex,
    },
    /// The customer's current typing preview (from a read with a preview), not persisted.
    TypingPreview {
        /// The chat.
        chat_id: ChatId,
        /// Agents present.
        agents: Arc<[AgentId]>,
        /// The preview text.
        text: Arc<str>,
    },
    /// The chat ended.
    ChatEnded {
        /// The chat.
        chat_id: ChatId,
        /// Agents that were present.
        agents: Arc<[AgentId]>,
    },
}

/// The in-process event bus: a bounded broadcast channel. A subscriber that falls more than
/// the capacity behind gets a `Lagged` error and must resynchronise from the engine.
#[derive(Debug, Clone)]
pub struct LocalBus {
    tx: broadcast::Sender<BusEvent>,
}

impl LocalBus {
    /// A bus that keeps up to `capacity` events per slow subscriber.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(16));
        Self { tx }
    }
    /// Publishes; a bus with no subscribers drops the event.
    pub fn publish(&self, event: BusEvent) {
        let _ = self.tx.send(event);
    }
    /// A new subscription from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.tx.subscribe()
    }
}
