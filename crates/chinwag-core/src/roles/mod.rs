//! The engine as each kind of caller sees it: three small cloneable handles over the one
//! [`ChatEngine`], each with the calls and the types of its role, in protocol-neutral terms.
//!
//! - [`Customers`] ([`customers`]): what a customer's client does — request a chat, read
//!   it, show agents what it is typing, act in it — named by typed [`customers::Credentials`];
//!   and what push delivery asks about a customer's chat ([`pushes`]). The GMS REST and
//!   CometD adapters and the push worker hold this one.
//! - [`Agents`] ([`agents`]): an agent's sign-in by token, presence, offers, the chats it
//!   is in and what it does there. The agent API holds this one.
//! - [`Routing`] ([`routing`]): queues and agents as routing has them, for supervision.
//!
//! Supervisor accounts reach supervision through [`Agents`] too ([`supervise`]: the
//! overview, monitoring, take-over).
//!
//! File transfer ([`files`]) adds calls to the customer and agent handles; the agent's desk
//! ([`desk`]: not-ready reasons, canned responses, transfer) to the agent handle.
//!
//! Each adapter takes the handle of its role only, so it cannot reach another role's calls;
//! [`ChatEngine`] itself keeps what the process needs (opening, workers, health, draining).
//! Errors are [`crate::CoreError`]s in domain terms: each adapter words them for its wire.

pub mod agents;
pub mod customers;
pub mod desk;
pub mod files;
pub mod pushes;
pub mod routing;
pub mod supervise;

#[cfg(test)]
mod tests;

pub use agents::Agents;
pub use customers::Customers;
pub use routing::Routing;

use crate::ChatEngine;
use std::sync::Arc;

impl ChatEngine {
    /// The customer-side handle over this engine.
    pub fn customers(self: &Arc<Self>) -> Customers {
        Customers::new(self.clone())
    }

    /// The agent-side handle over this engine.
    pub fn agents(self: &Arc<Self>) -> Agents {
        Agents::new(self.clone())
    }

    /// The routing (supervision) handle over this engine.
    pub fn routing(self: &Arc<Self>) -> Routing {
        Routing::new(self.clone())
    }
}
