//! [`Elsewhere`]: what the other nodes sharing the store recorded of a chat's customer (its
//! fetch position, a live CometD watch, its last request), read at most once per push
//! decision and only when the decision needs it (the engine takes it into its own knowledge:
//! `Customers::learn_customer`). A store that does not answer counts as "nothing known":
//! the push then goes out as this node alone would decide (at least once, never lost).

use chinwag_core::ids::ChatId;
use chinwag_core::ports::Seen;
use chinwag_core::roles::Customers;

/// A lazily read record for one chat.
pub(crate) struct Elsewhere<'a> {
    customers: &'a Customers,
    chat: &'a ChatId,
    got: Option<Option<Seen>>,
}

impl<'a> Elsewhere<'a> {
    pub(crate) fn new(customers: &'a Customers, chat: &'a ChatId) -> Self {
        Self {
            customers,
            chat,
            got: None,
        }
    }

    /// The record (`None`: a store one process owns, nothing recorded, or no answer); the
    /// store is asked the first time only.
    pub(crate) async fn read(&mut self) -> Option<Seen> {
        if let Some(got) = self.got {
            return got;
        }
        let got = match self.customers.learn_customer(self.chat).await {
            Ok(got) => got,
            Err(e) => {
                tracing::warn!(chat = %self.chat.as_str(), %e, "push: cannot read what other nodes saw of the customer");
                None
            }
        };
        self.got = Some(got);
        got
    }
}
