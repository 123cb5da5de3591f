//! What push delivery asks of the [`Customers`] handle: the jobs the engine plans (its feed,
//! the outbox and its claims), what a push about a customer's chat carries, and what the
//! engine knows of the customer (whether it fetched an event, when it was last seen, a
//! device the provider dropped). Push notifies customers, so it holds the customer handle.

use super::Customers;
use crate::error::CoreError;
use crate::ids::{ChatId, EventIndex};
use crate::lease::NodeLease;
use crate::ports::{PushOutbox, Seen};
use crate::push::{PushClaims, PushJob, PushSettings};
use std::sync::Arc;
use tokio::sync::mpsc;

pub use crate::engine::PushView;

impl Customers {
    /// The stream of push jobs committed from now on; `None` after the first call.
    pub fn take_push_feed(&self) -> Option<mpsc::UnboundedReceiver<PushJob>> {
        self.engine.take_push_feed()
    }

    /// The outbox (the store's).
    pub fn outbox(&self) -> Arc<dyn PushOutbox> {
        self.engine.outbox()
    }

    /// The numbering and ownership side of the outbox (the store's).
    pub fn push_claims(&self) -> Arc<dyn PushClaims> {
        self.engine.push_claims()
    }

    /// The node lease whose holder owns the push jobs this engine plans, if one was set.
    pub fn push_owner(&self) -> Option<&Arc<NodeLease>> {
        self.engine.push_owner()
    }

    /// The push settings.
    pub fn push_settings(&self) -> &PushSettings {
        self.engine.push_settings()
    }

    /// Everything needed to build the push for `index` of `chat_id` (loaded from the store
    /// when not in memory); `Ok(None)` once the chat is gone.
    pub async fn push_view(
        &self,
        chat_id: &ChatId,
        index: EventIndex,
    ) -> Result<Option<PushView>, CoreError> {
        self.engine.push_view(chat_id, index).await
    }

    /// The provider said `device` (`type:id`) is unregistered: the chat gets no more pushes
    /// until its subscription names another device.
    pub fn drop_push_device(&self, chat_id: &ChatId, device: &str) {
        self.engine.drop_push_device(chat_id, device);
    }

    /// On a shared store: whether the customer had made no request for the push timeout at
    /// `at_ms`, as far as this node knows (see [`Self::learn_customer`]).
    pub fn push_timed_out(&self, chat_id: &ChatId, at_ms: i64) -> bool {
        self.engine.push_timed_out(chat_id, at_ms)
    }

    /// First position the customer has not fetched (0 when unknown); `None` when this node
    /// does not know the chat.
    pub fn client_position(&self, chat_id: &ChatId) -> Option<u64> {
        self.engine.client_position(chat_id)
    }

    /// What every node sharing the store recorded of the customer (one store read), taken
    /// into this node's knowledge; `None` on a store one process owns.
    pub async fn learn_customer(&self, chat_id: &ChatId) -> Result<Option<Seen>, CoreError> {
        self.engine.learn_customer(chat_id).await
    }
}
