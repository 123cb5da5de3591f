//! [`Customers`]: the engine as a customer's client sees it. A customer requests a chat,
//! then names it on every call with [`Credentials`] (typed ids, parsed once by the adapter)
//! to read it ([`Customers::read`]), show its agents what it is typing
//! ([`Customers::read_typing`]) or act in it ([`Customers::act`]). Answers are
//! [`ChatView`]s holding the events a [`Selection`] asks for.

use crate::ChatEngine;
use crate::bus::LocalBus;
use crate::error::CoreError;
use crate::event::UserData;
use crate::ids::{ChatId, EventIndex, SecureKey, ServiceName, UserId};
use std::net::IpAddr;
use std::sync::Arc;

pub use crate::engine::{ChatView, Selection};

/// A request for a new chat.
#[derive(Debug, Clone, Default)]
pub struct NewChat {
    /// Service name.
    pub service: ServiceName,
    /// Nickname (or first+last name).
    pub nickname: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Attached data.
    pub user_data: UserData,
    /// Initial message text (sent as the first Message when non-empty).
    pub text: Option<String>,
    /// The client's address, for rate limits (`None`: not limited).
    pub origin: Option<IpAddr>,
}

/// What names a customer's chat on every later call: ids the adapter parsed once from its
/// request, lent for the call (no copy is made).
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// The service the chat belongs to.
    pub service: &'a ServiceName,
    /// The chat.
    pub chat_id: &'a ChatId,
    /// The customer's user id, checked when given (some protocols do not send it).
    pub user_id: Option<&'a UserId>,
    /// The key the customer offers (compared in constant time with the chat's).
    pub key: &'a SecureKey,
    /// The client's address, for rate limits (`None`: the server's own calls, not limited).
    pub origin: Option<IpAddr>,
}

/// Something a customer does in its chat (each adds to the transcript or the chat's data).
#[derive(Debug, Clone)]
pub enum CustomerOp {
    /// Send a message.
    Send {
        /// Text.
        text: String,
        /// Client-defined type.
        message_type: Option<String>,
        /// Structured attributes.
        attributes: Option<serde_json::Value>,
    },
    /// Typing started.
    StartTyping {
        /// Preview.
        text: Option<String>,
    },
    /// Typing stopped.
    StopTyping {
        /// Preview.
        text: Option<String>,
    },
    /// Leave and end the chat.
    Disconnect,
    /// Push a URL to the agent.
    PushUrl {
        /// The URL.
        url: String,
    },
    /// Change nickname.
    UpdateNickname {
        /// New nickname.
        nickname: String,
    },
    /// Application-defined notice.
    CustomNotice {
        /// Optional text.
        text: Option<String>,
        /// Structured attributes.
        attributes: Option<serde_json::Value>,
    },
    /// Merge attached data.
    UpdateData {
        /// Data to merge.
        data: UserData,
    },
    /// Acknowledge reading up to an event (refused with
    /// [`CoreError::NoSuchEvent`] when the chat has no event at that index).
    ReadReceipt {
        /// Index of the event read.
        index: EventIndex,
    },
}

/// The customer-side handle: cheap to clone, one per adapter.
#[derive(Clone, Debug)]
pub struct Customers {
    pub(super) engine: Arc<ChatEngine>,
}

impl Customers {
    pub(super) fn new(engine: Arc<ChatEngine>) -> Self {
        Self { engine }
    }

    /// Starts a chat: validates, commits the customer's join (and first message), queues
    /// it for an agent. The view carries the new chat's credentials.
    pub async fn request_chat(
        &self,
        req: NewChat,
        selection: Selection,
    ) -> Result<ChatView, CoreError> {
        self.engine.request_chat(req, selection).await
    }

    /// Reads the chat as `selection` asks. Nothing changes but what the engine knows of the
    /// customer: seen now, and what it has fetched (which acknowledges reliable pushes; a
    /// read selecting nothing acknowledges every event so far). On a store several nodes
    /// share, one store round trip (the chat's revision) when nothing is new.
    pub async fn read(
        &self,
        creds: Credentials<'_>,
        selection: Selection,
    ) -> Result<ChatView, CoreError> {
        self.engine.read(creds, None, selection).await
    }

    /// [`Self::read`], also showing the chat's agents what the customer is typing now
    /// (`preview`; nothing is shown when it is empty or the chat has ended). Nothing is
    /// stored: the same cost as a read.
    pub async fn read_typing(
        &self,
        creds: Credentials<'_>,
        preview: &str,
        selection: Selection,
    ) -> Result<ChatView, CoreError> {
        self.engine.read(creds, Some(preview), selection).await
    }

    /// Applies `op` to the chat and returns it as `selection` asks.
    pub async fn act(
        &self,
        creds: Credentials<'_>,
        op: CustomerOp,
        selection: Selection,
    ) -> Result<ChatView, CoreError> {
        self.engine.customer(creds, op, selection).await
    }

    /// Whether `service` is one this engine serves.
    pub fn serves(&self, service: &str) -> bool {
        self.engine.service(service).is_some()
    }

    /// The engine's event bus (transcript events for live clients).
    pub fn bus(&self) -> &LocalBus {
        self.engine.bus()
    }

    /// Current time from the engine's clock (epoch ms).
    pub fn now_ms(&self) -> i64 {
        self.engine.now_ms()
    }
}
