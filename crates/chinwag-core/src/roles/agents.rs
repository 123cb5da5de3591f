//! [`Agents`]: the engine as an agent's client sees it. An agent signs in with its token
//! (which names its [`AgentId`]), logs in, says when it is ready, accepts or rejects the
//! chats offered to it, reads the chats it is in ([`AgentChatView`]) and acts in them
//! ([`AgentOp`]).

use crate::ChatEngine;
use crate::bus::LocalBus;
use crate::error::CoreError;
use crate::event::{Event, UserData};
use crate::ids::{AgentId, ChatId, EventIndex, QueueName, ServiceName};
use crate::session::Participant;
use std::sync::Arc;

/// An offer as shown to the agent.
#[derive(Debug, Clone)]
pub struct OfferView {
    /// The chat.
    pub chat_id: ChatId,
    /// Its service.
    pub service: ServiceName,
    /// When the offer lapses.
    pub expires_ms: i64,
}

/// An agent's own state.
#[derive(Debug, Clone)]
pub struct AgentStatus {
    /// Account id.
    pub id: AgentId,
    /// Display name.
    pub name: String,
    /// Logged in.
    pub logged_in: bool,
    /// Ready for offers.
    pub ready: bool,
    /// Why not ready (`None` when ready or logged out).
    pub reason: Option<String>,
    /// Concurrent chat capacity.
    pub capacity: u32,
    /// Chats the agent is in.
    pub chats: Vec<ChatId>,
    /// Pending offers.
    pub offers: Vec<OfferView>,
}

/// A chat as an agent sees it.
#[derive(Debug, Clone)]
pub struct AgentChatView {
    /// Chat id.
    pub chat_id: ChatId,
    /// Service.
    pub service: ServiceName,
    /// The queue of its service.
    pub queue: QueueName,
    /// Subject.
    pub subject: Option<String>,
    /// Customer e-mail.
    pub email: Option<String>,
    /// Attached data.
    pub user_data: UserData,
    /// Participants, past and present.
    pub participants: Vec<Participant>,
    /// Ended.
    pub ended: bool,
    /// Events from the requested position (at most one answer's worth of bytes).
    pub events: Vec<Event>,
    /// Next position to ask for.
    pub next_position: u64,
}

/// What an agent does in a chat it is in.
#[derive(Debug, Clone)]
pub enum AgentOp {
    /// Send a message.
    Send {
        /// Text.
        text: String,
        /// Optional type.
        message_type: Option<String>,
    },
    /// Typing on or off, with optional preview.
    Typing {
        /// On.
        on: bool,
        /// Preview.
        text: Option<String>,
    },
    /// Push a URL to the customer.
    PushUrl {
        /// URL.
        url: String,
    },
    /// A notice (`Notice`, or `CustomNotice` when custom).
    Notice {
        /// Text.
        text: String,
        /// Application-defined.
        custom: bool,
        /// Attributes.
        attributes: Option<serde_json::Value>,
    },
    /// Leave; the chat goes on and is queued again if no agent remains.
    Leave,
    /// End the chat for everyone.
    End,
}

/// The agent-side handle: cheap to clone, one per adapter.
#[derive(Clone, Debug)]
pub struct Agents {
    pub(super) engine: Arc<ChatEngine>,
}

impl Agents {
    pub(super) fn new(engine: Arc<ChatEngine>) -> Self {
        Self { engine }
    }

    /// The agent whose login token is `token` (compared in constant time with every
    /// account's); [`CoreError::Unauthorized`] when none.
    pub fn sign_in(&self, token: &str) -> Result<AgentId, CoreError> {
        self.engine.authenticate(token)
    }

    /// Logs the agent in (not ready).
    pub async fn login(&self, agent: &AgentId) -> Result<AgentStatus, CoreError> {
        self.engine.agent_login(agent).await
    }

    /// Logs the agent out; its offers go back to the queue.
    pub async fn logout(&self, agent: &AgentId) -> Result<(), CoreError> {
        self.engine.agent_logout(agent).await
    }

    /// Sets readiness for offers. The agent must be logged in.
    pub async fn set_ready(&self, agent: &AgentId, ready: bool) -> Result<AgentStatus, CoreError> {
        self.engine.agent_set_ready(agent, ready).await
    }

    /// The agent's presence, chats and offers.
    pub async fn status(&self, agent: &AgentId) -> Result<AgentStatus, CoreError> {
        self.engine.agent_status(agent).await
    }

    /// Accepts an offered chat: the agent joins it.
    pub async fn accept(&self, agent: &AgentId, chat: &ChatId) -> Result<AgentChatView, CoreError> {
        self.engine.agent_accept(agent, chat).await
    }

    /// Rejects an offered chat (it is offered to someone else).
    pub async fn reject(&self, agent: &AgentId, chat: &ChatId) -> Result<(), CoreError> {
        self.engine.agent_reject(agent, chat).await
    }

    /// A chat the agent is in or has been offered, with its events from `from`.
    pub async fn chat(
        &self,
        agent: &AgentId,
        chat: &ChatId,
        from: EventIndex,
    ) -> Result<AgentChatView, CoreError> {
        self.engine.agent_chat(agent, chat, from).await
    }

    /// Acts in a chat the agent is in; returns the events this made.
    pub async fn act(
        &self,
        agent: &AgentId,
        chat: &ChatId,
        op: AgentOp,
    ) -> Result<Vec<Event>, CoreError> {
        self.engine.agent_act(agent, chat, op).await
    }

    /// The engine's event bus (offers, transcript events, presence changes).
    pub fn bus(&self) -> &LocalBus {
        self.engine.bus()
    }
}
