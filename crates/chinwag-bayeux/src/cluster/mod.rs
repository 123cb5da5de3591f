//! Several Bayeux servers (nodes) serving one set of clients: the ports a shared backend
//! implements and how a node uses them.
//!
//! One node **owns** each session (the one that made it). A [`SessionDirectory`] maps each
//! client id to its owner (node name and internal address), the session's subscriptions and
//! the state the application saved for it (`saved`). Whether an owner is alive is not the
//! entry's business: the [`Liveness`] port answers it per node (in Chinwag: the node's
//! liveness lease), cached briefly per owner (`alive`), so holding sessions costs nothing
//! while they are idle. Entries only carry an expiry, rewritten rarely by the owner
//! (`worker`), so a dead node's abandoned entries disappear.
//! A request naming a client this node does not hold is looked up there (`route`):
//! - owned by a live node: the HTTP request is **forwarded** to the owner and its answer
//!   relayed (`forward`); a WebSocket is relayed frame by frame to the owner over a
//!   WebSocket this node opens (`ws_relay`). Forwarded requests carry the cluster secret
//!   and are never forwarded again.
//! - owned by a node that is gone (its liveness ran out, or a previous process on this
//!   node's own address): the session is **taken over** — made here with the same id,
//!   subscriptions and saved state, and the application told
//!   ([`crate::SessionListener::restored`]) so it can rebuild its own state.
//! - unknown: `402` as on a single node.
//!
//! A node whose own name changes (its liveness was lost: it was thought dead, and its
//! sessions may have been taken over) drops every session recorded under the old name.
//!
//! A [`BroadcastRelay`] carries broadcast publishes to the other nodes, whose own
//! subscribers get them (at most once).
//!
//! Without a cluster nothing here runs: a server built without [`Cluster`] behaves as a
//! single node and pays nothing.

mod alive;
pub mod conformance;
mod forward;
mod memory;
pub(crate) mod route;
mod saved;
mod worker;
pub(crate) mod ws_relay;

pub use memory::{MemoryDirectory, MemoryNodes};
pub use saved::{Saved, State};
pub use worker::DirectoryWorker;
pub(crate) use worker::Recorded;

pub(crate) use forward::{FORWARD_HEADER, forwarded_request};

use crate::session::ClientId;
use std::sync::Arc;
use std::time::Duration;

/// A node as the directory names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The node's identity for this process's life (a restarted node is a new owner).
    pub node: String,
    /// Its internal base URL other nodes reach it at, e.g. `http://10.0.0.5:8080`.
    pub addr: String,
}

/// What the directory holds for one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Who owns it.
    pub owner: Owner,
    /// The ack extension is on.
    pub ack: bool,
    /// Its broadcast subscriptions.
    pub subscriptions: Vec<String>,
    /// The application's confirmed state.
    pub state: State,
}

/// One session in a write by its owner: its id, and what changed since the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewal {
    /// The session.
    pub client: ClientId,
    /// Its subscriptions, when they changed.
    pub subscriptions: Option<Vec<String>>,
    /// Its confirmed state, when it changed.
    pub state: Option<State>,
}

/// How long entries last. The owner rewrites each of its entries between half and three
/// quarters of `lease` after the last write (spread at random); an entry not written for
/// `lease + keep` is deleted (its owner died: `keep` leaves its client time to come back
/// and have the session taken over).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// How long an entry lasts between its owner's writes.
    pub lease: Duration,
    /// How long it is kept past that.
    pub keep: Duration,
}

impl Lease {
    /// An entry's time to live from its last write.
    pub fn ttl(&self) -> Duration {
        self.lease + self.keep
    }
}

/// Whether the nodes of the cluster are alive, as this node sees them (in Chinwag: the
/// node liveness leases).
#[async_trait::async_trait]
pub trait Liveness: Send + Sync + 'static {
    /// The name this node records its sessions under now. It changes when this node lost
    /// its liveness (others took it for dead and may have taken its sessions over): the
    /// sessions recorded under an earlier name are then dropped here.
    fn me(&self) -> String;

    /// Whether the node named `node` is alive. A name once dead stays dead.
    async fn alive(&self, node: &str) -> Result<bool, DirectoryError>;
}

/// Why the directory could not answer.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DirectoryError {
    /// The backend is unreachable or did not answer in time.
    #[error("session directory unavailable")]
    Unavailable,
    /// The backend answered with something unexpected.
    #[error("session directory: {0}")]
    Backend(String),
}

/// Where every session lives. Entries are per client id; each call is atomic on its entry.
#[async_trait::async_trait]
pub trait SessionDirectory: Send + Sync + 'static {
    /// Records a new session owned by `owner` (replacing any entry under that id).
    async fn create(
        &self,
        client: &ClientId,
        owner: &Owner,
        ack: bool,
        lease: Lease,
    ) -> Result<(), DirectoryError>;

    /// The entry of `client`, if any.
    async fn get(&self, client: &ClientId) -> Result<Option<Entry>, DirectoryError>;

    /// Makes `to` the owner if the node `from` still owns the entry, with a fresh expiry;
    /// returns the entry as it was (`None`: no entry, or another owner).
    async fn take_over(
        &self,
        client: &ClientId,
        from: &str,
        to: &Owner,
        lease: Lease,
    ) -> Result<Option<Entry>, DirectoryError>;

    /// Rewrites the expiry of each session `owner` still owns, with what changed; returns
    /// the sessions it no longer owns (taken over, or gone).
    async fn renew(
        &self,
        owner: &Owner,
        sessions: Vec<Renewal>,
        lease: Lease,
    ) -> Result<Vec<ClientId>, DirectoryError>;

    /// Removes the entry if the node `owner` owns it.
    async fn remove(&self, client: &ClientId, owner: &str) -> Result<(), DirectoryError>;
}

/// Carries broadcast publishes between nodes (at most once).
pub trait BroadcastRelay: Send + Sync + 'static {
    /// Sends a publish of this node to the others (without waiting; failures are logged).
    /// The other nodes hand it to [`crate::BayeuxServer::publish_from_peer`].
    fn publish(&self, channel: &str, data: &str);
}

/// How a node takes part in a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// This node's internal base URL other nodes reach it at (its name comes from the
    /// [`Liveness`]).
    pub addr: String,
    /// The mount path of the Bayeux endpoint, the same on every node (e.g. `/cometd`).
    pub mount: String,
    /// The shared secret a forwarded request carries; requests without it are never
    /// treated as forwarded.
    pub secret: String,
    /// Entry lifetimes.
    pub lease: Lease,
    /// Longest wait to connect to another node before it counts as unreachable.
    pub connect_timeout: Duration,
    /// How long a request for a session whose owner is unreachable waits for the owner's
    /// liveness to run out (then the session is taken over) before it is answered
    /// `503::owner_unavailable` (set it a little above the liveness's time to live).
    pub owner_wait: Duration,
}

/// A node's cluster membership: its directory, relay and settings.
pub struct Cluster {
    pub(crate) directory: Arc<dyn SessionDirectory>,
    pub(crate) liveness: alive::Cached,
    pub(crate) relay: Option<Arc<dyn BroadcastRelay>>,
    pub(crate) options: ClusterOptions,
    pub(crate) http: reqwest::Client,
    /// Wakes the directory worker (subscriptions or state to write now).
    pub(crate) wake: tokio::sync::Notify,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// A membership with `directory`, `liveness` (and `relay`, for broadcast channels
    /// across nodes).
    pub fn new(
        directory: Arc<dyn SessionDirectory>,
        liveness: Arc<dyn Liveness>,
        relay: Option<Arc<dyn BroadcastRelay>>,
        options: ClusterOptions,
    ) -> Result<Self, DirectoryError> {
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| DirectoryError::Backend(format!("http client: {e}")))?;
        Ok(Self {
            directory,
            liveness: alive::Cached::new(liveness),
            relay,
            options,
            http,
            wake: tokio::sync::Notify::new(),
        })
    }
}

impl Cluster {
    /// This node as entries name it now.
    pub(crate) fn me(&self) -> Owner {
        Owner {
            node: self.liveness.me(),
            addr: self.options.addr.clone(),
        }
    }
}

/// Compares two secrets without stopping at the first difference.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
