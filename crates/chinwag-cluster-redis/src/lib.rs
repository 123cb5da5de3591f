//! Several Chinwag nodes sharing their Bayeux clients through Redis, a single server or a
//! Redis Cluster: the [`RedisDirectory`] (where each CometD session lives, the port
//! [`chinwag_bayeux::cluster::SessionDirectory`]) and the [`RedisRelay`] (broadcast
//! publishes to every node, the port [`chinwag_bayeux::cluster::BroadcastRelay`]).
//!
//! # Layout
//! - `conn`: the connection (single or cluster, from the shared `chinwag-redis-conn` layer)
//!   and the deadline every call runs under, failures mapped to `DirectoryError`.
//! - `directory`: one HASH per session, `<prefix>:bx:{<clientId>}` (hash-tagged by the
//!   client id, so each entry is one cluster slot and each call one script on it).
//! - `relay`: PUBLISH on `<prefix>:bx:broadcast`, and the worker subscribed to it.

mod conn;
mod directory;
mod relay;

pub use conn::{ConnectError, Target};
pub use directory::RedisDirectory;
pub use relay::{RedisRelay, RelayWorker};

use std::time::Duration;

/// How the directory and relay talk to Redis.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Prefix of every key and channel (no braces), shared with the store's.
    pub prefix: String,
    /// Longest a whole call may take (reconnects and redirects included).
    pub deadline: Duration,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            prefix: "chinwag".into(),
            deadline: Duration::from_secs(2),
            connect_timeout: Duration::from_millis(500),
        }
    }
}
