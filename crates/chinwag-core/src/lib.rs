//! Chinwag's chat engine: the Chat Server role, independent of any wire protocol or storage.
//!
//! # Layout
//! - [`ids`]: newtype identifiers (chat, user, secure key, agent, participant, index).
//! - [`event`]: transcript events and the parties that produce them.
//! - [`session`]: one chat session's state and the pure rules that turn operations into events.
//! - [`ports`]: the traits the engine needs from the outside (store, clock, presence).
//! - [`bus`]: the in-process event bus ([`bus::LocalBus`]) and the events published on it.
//! - [`settings`]: services, queues and agent accounts as the engine sees them.
//! - [`engine`]: [`engine::ChatEngine`], the application service: sessions, store, workers.
//! - [`roles`]: the handles adapters hold, one per role ([`roles::Customers`],
//!   [`roles::Agents`], [`roles::Routing`]), with each role's calls and types.
//! - [`push`]: push subscriptions, which events are pushed, and the durable push jobs.
//! - [`lease`]: named leases with a TTL and fencing tokens, and this node's liveness lease.
//! - [`routing`]: queues, agent presence, offers and their timers.
//! - [`timers`]: durable timers per chat (abandonment), claimed once across nodes.
//! - [`files`]: safety rules for uploaded files (type from magic bytes, sanitised names).
//! - [`error`]: [`error::CoreError`] and [`error::StoreError`], in domain terms only.
//!
//! The engine knows nothing of HTTP, SQL or Redis: adapters translate wire messages into
//! the typed operations defined here, and storage backends implement [`ports::ChatStore`].

pub mod bus;
pub mod engine;
pub mod error;
pub mod event;
pub mod files;
pub mod ids;
pub mod lease;
pub mod memstore;
pub mod ports;
pub mod push;
pub mod roles;
pub mod routing;
pub mod session;
pub mod settings;
pub mod timers;
pub mod validate;

pub use engine::ChatEngine;
pub use error::{CoreError, StoreError};
