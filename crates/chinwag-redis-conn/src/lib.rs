//! The one Redis connection layer the Redis adapters share (the store and the Bayeux cluster
//! directory): where to connect ([`Target`], from `redis://…` or `redis+cluster://h:p,h:p…`),
//! the connection itself ([`Conn`]: one server through a reconnecting `ConnectionManager`, or
//! a cluster through the cluster client) and the deadline every call runs under, with Redis's
//! failures sorted into what a retry later can cure ([`RedisCallError::Unavailable`]) and the
//! rest ([`RedisCallError::Failed`]).
//!
//! Plumbing like `chinwag-http`: it knows nothing of chat or Bayeux. Each adapter maps
//! [`RedisCallError`] to its own port's error in one place.
//!
//! # Layout
//! - `target`: the URL forms and [`Target::parse`].
//! - `conn`: [`Conn::open`], [`Conn::run`] and the `ConnectionLike` impl over both kinds.
//! - `error`: [`RedisCallError`] and the classification of `RedisError`.

mod conn;
mod error;
mod target;

pub use conn::Conn;
pub use error::RedisCallError;
pub use target::{BadUrl, Target};

use std::time::Duration;

/// The timeouts of a connection; each adapter builds these from its own options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest wait for a connection to one server to be established.
    pub connect: Duration,
    /// Longest wait for one reply from one server.
    pub response: Duration,
    /// Longest a whole cluster request may take inside the client (its retries and
    /// redirects included).
    pub overall: Duration,
    /// Longest [`Conn::open`] may take in all; past it the open fails as unavailable.
    pub open: Duration,
}
