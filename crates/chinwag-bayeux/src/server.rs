//! [`BayeuxServer`]: the shared server state and the API an application uses — build it with
//! hooks, mount its router, deliver to one client, publish to a channel, disconnect a client.

use crate::channel::{Channel, ChannelKind};
use crate::config::BayeuxConfig;
use crate::hooks::{AllowAll, Authorizer, Extension, ServiceHandler, SessionListener};
use crate::message::delivery;
use crate::registry::Registry;
use crate::session::{ClientId, Queued, Removal, Session};
use chinwag_limits::{AddrKey, KeyedLimiter, LogLimiter};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// Client addresses whose handshake rate is tracked at once (see [`KeyedLimiter`]).
const HANDSHAKE_KEYS: usize = 65_536;

/// Why a delivery was not made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DeliverError {
    /// No such session (gone or never existed).
    #[error("unknown client")]
    UnknownClient,
    /// The data could not be encoded.
    #[error("data could not be encoded as JSON")]
    Encode,
}

/// Shared internals.
pub(crate) struct Inner {
    pub(crate) config: BayeuxConfig,
    pub(crate) registry: Registry,
    pub(crate) services: Vec<(String, Arc<dyn ServiceHandler>)>,
    pub(crate) authorizer: Arc<dyn Authorizer>,
    pub(crate) extensions: Vec<Arc<dyn Extension>>,
    pub(crate) listeners: Vec<Arc<dyn SessionListener>>,
    /// The usual connect advice, encoded once (it goes out with every connect reply).
    pub(crate) retry_advice_json: String,
    /// Handshakes per client address.
    pub(crate) handshakes: KeyedLimiter<AddrKey>,
    /// Sessions dropped for overflowing, logged at most once per period.
    pub(crate) overflow_log: LogLimiter,
    /// The cluster this server is a node of.
    pub(crate) cluster: Option<Arc<crate::cluster::Cluster>>,
}

/// A Bayeux server. Cheap to clone.
#[derive(Clone)]
pub struct BayeuxServer {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for BayeuxServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BayeuxServer")
            .field("sessions", &self.inner.registry.len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`BayeuxServer`] with its hooks.
pub struct Builder {
    inner: Inner,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder").finish_non_exhaustive()
    }
}

impl Builder {
    /// Handles `/service/**` messages matching `pattern` (exact, `/x/*` or `/x/**`).
    pub fn service(mut self, pattern: &str, handler: Arc<dyn ServiceHandler>) -> Self {
        self.inner.services.push((pattern.to_owned(), handler));
        self
    }
    /// Sets the authorizer.
    pub fn authorizer(mut self, a: Arc<dyn Authorizer>) -> Self {
        self.inner.authorizer = a;
        self
    }
    /// Adds an extension.
    pub fn extension(mut self, e: Arc<dyn Extension>) -> Self {
        self.inner.extensions.push(e);
        self
    }
    /// Adds a session listener.
    pub fn listener(mut self, l: Arc<dyn SessionListener>) -> Self {
        self.inner.listeners.push(l);
        self
    }
    /// Makes the server a node of a cluster (see [`crate::cluster`]).
    pub fn cluster(mut self, c: crate::cluster::Cluster) -> Self {
        self.inner.cluster = Some(Arc::new(c));
        self
    }
    /// The server.
    pub fn build(mut self) -> BayeuxServer {
        self.inner.retry_advice_json = crate::process::retry_advice(&self.inner.config).to_string();
        BayeuxServer {
            inner: Arc::new(self.inner),
        }
    }
}

impl BayeuxServer {
    /// A builder with `config` and no hooks.
    pub fn builder(config: BayeuxConfig) -> Builder {
        Builder {
            inner: Inner {
                handshakes: KeyedLimiter::new(config.handshakes_per_ip, HANDSHAKE_KEYS),
                overflow_log: LogLimiter::new(Duration::from_secs(10)),
                config,
                registry: Registry::default(),
                services: Vec::new(),
                authorizer: Arc::new(AllowAll),
                extensions: Vec::new(),
                listeners: Vec::new(),
                retry_advice_json: String::new(),
                cluster: None,
            },
        }
    }

    /// The settings.
    pub fn config(&self) -> &BayeuxConfig {
        &self.inner.config
    }

    /// Live sessions.
    pub fn session_count(&self) -> usize {
        self.inner.registry.len()
    }

    /// Live sessions by the transport of their latest handshake or connect (kept as
    /// counters: reading them costs nothing).
    pub fn sessions_by_transport(&self) -> [(crate::Transport, usize); 3] {
        self.inner.registry.transports.snapshot()
    }

    /// Connects being held right now, over every session (walks all sessions: for
    /// diagnostics and tests, not hot paths).
    pub fn held_connects(&self) -> usize {
        self.inner
            .registry
            .all()
            .iter()
            .map(|s| s.state().parked as usize)
            .sum()
    }

    /// Whether `client` is a live session.
    pub fn is_connected(&self, client: &ClientId) -> bool {
        self.inner.registry.get(client.as_str()).is_some()
    }

    /// Sends `data` on `channel` to one client only (service replies, private notices).
    pub fn deliver<T: Serialize + ?Sized>(
        &self,
        client: &ClientId,
        channel: &str,
        data: &T,
    ) -> Result<(), DeliverError> {
        let data = serde_json::to_string(data).map_err(|_| DeliverError::Encode)?;
        let session = self
            .inner
            .registry
            .get(client.as_str())
            .ok_or(DeliverError::UnknownClient)?;
        self.push(&session, delivery(channel, &data).into())
    }

    /// Sends already-encoded JSON `data` on `channel` to one client only (the caller encoded
    /// it, e.g. outside a lock of its own).
    pub fn deliver_json(
        &self,
        client: &ClientId,
        channel: &str,
        data: &str,
    ) -> Result<(), DeliverError> {
        let session = self
            .inner
            .registry
            .get(client.as_str())
            .ok_or(DeliverError::UnknownClient)?;
        self.push(&session, delivery(channel, data).into())
    }

    /// Publishes `data` to every subscriber of the broadcast `channel`; returns how many.
    pub fn publish<T: Serialize + ?Sized>(
        &self,
        channel: &str,
        data: &T,
    ) -> Result<usize, DeliverError> {
        let data = serde_json::to_string(data).map_err(|_| DeliverError::Encode)?;
        Ok(self.broadcast(channel, &data))
    }

    /// Ends a client's session from the server side; its held connect is told not to retry.
    pub fn disconnect(&self, client: &ClientId) {
        if let Some(s) = self.inner.registry.get(client.as_str()) {
            self.remove(&s, Removal::Disconnected);
        }
    }

    /// Ends every session (shutdown): held connects are answered with `reconnect: handshake`.
    pub fn close_all(&self) {
        for s in self.inner.registry.all() {
            self.remove(&s, Removal::Shutdown);
        }
    }

    /// Delivers a broadcast publish another node relayed ([`crate::cluster::BroadcastRelay`])
    /// to this node's subscribers; returns how many.
    pub fn publish_from_peer(&self, channel: &str, data: &str) -> usize {
        self.broadcast_here(channel, data)
    }

    /// Whether this server is a node of a cluster (so saved state is kept).
    pub fn is_clustered(&self) -> bool {
        self.inner.cluster.is_some()
    }

    /// Saves application state for `client` under `key` (`None` removes it), for the node
    /// that may take the session over if this one dies ([`SessionListener::restored`]).
    /// Written to the directory once the client has confirmed what it describes (see
    /// [`crate::cluster::Saved`]), or at once with `now` (state describing nothing in
    /// flight). Does nothing outside a cluster.
    pub fn save_state(&self, client: &ClientId, key: &str, value: Option<String>, now: bool) {
        let Some(cluster) = &self.inner.cluster else {
            return;
        };
        let Some(session) = self.inner.registry.get(client.as_str()) else {
            return;
        };
        let changed = {
            let mut st = session.state();
            let changed = st.saved.set(key, value, now);
            st.dirty |= changed;
            changed
        };
        if changed {
            cluster.wake.notify_one();
        }
    }

    /// Encodes once and queues to every subscriber of `channel`, here and (through the
    /// relay) on the other nodes.
    pub(crate) fn broadcast(&self, channel: &str, data: &str) -> usize {
        if let Some(relay) = self.inner.cluster.as_ref().and_then(|c| c.relay.as_ref())
            && Channel::concrete(channel).map(|c| c.kind()) == Ok(ChannelKind::Broadcast)
        {
            relay.publish(channel, data);
        }
        self.broadcast_here(channel, data)
    }

    /// Encodes once and queues to every subscriber of `channel` on this node.
    fn broadcast_here(&self, channel: &str, data: &str) -> usize {
        if Channel::concrete(channel).map(|c| c.kind()) != Ok(ChannelKind::Broadcast) {
            return 0;
        }
        let targets = self.inner.registry.subscribers(channel);
        if targets.is_empty() {
            return 0;
        }
        let msg: Arc<str> = delivery(channel, data).into();
        let mut n = 0;
        for s in targets {
            if self.push(&s, msg.clone()).is_ok() {
                n += 1;
            }
        }
        n
    }

    fn push(&self, session: &Arc<Session>, msg: Arc<str>) -> Result<(), DeliverError> {
        let c = &self.inner.config;
        match session.enqueue(msg, c.max_queue, c.max_queue_bytes) {
            Queued::Ok => Ok(()),
            Queued::Gone => Err(DeliverError::UnknownClient),
            Queued::Full => {
                if let Some(more) = self.inner.overflow_log.allow() {
                    tracing::warn!(client = %session.id, suppressed = more, "client queue full: dropping the session");
                }
                self.remove(session, Removal::Overflow);
                Err(DeliverError::UnknownClient)
            }
        }
    }

    /// Removes a session and tells the listeners.
    pub(crate) fn remove(&self, session: &Session, why: Removal) {
        let recorded = session.state().recorded.as_ref().map(|r| r.owner.clone());
        if self.inner.registry.remove(session, why) {
            for l in &self.inner.listeners {
                l.removed(&session.id, why);
            }
            if why != Removal::Moved
                && let Some(cluster) = self.inner.cluster.clone()
                && let Some(me) = recorded
                && let Ok(rt) = tokio::runtime::Handle::try_current()
            {
                let id = session.id.clone();
                rt.spawn(async move {
                    if let Err(e) = cluster.directory.remove(&id, &me).await {
                        tracing::debug!(%e, client = %id, "session directory removal failed");
                    }
                });
            }
        }
    }

    /// The handler for a service channel.
    pub(crate) fn service_for(&self, channel: &str) -> Option<Arc<dyn ServiceHandler>> {
        self.inner
            .services
            .iter()
            .find(|(p, _)| p == channel || crate::channel::matches(p, channel))
            .map(|(_, h)| h.clone())
    }
}
