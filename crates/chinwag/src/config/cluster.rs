//! `[cluster]`: how this node takes part in a cluster of nodes sharing a Redis store — the
//! address other nodes reach it at, the secret forwarded requests carry, and how long the
//! session directory's entries last. Only used when `store.url` names Redis.

use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// `[cluster]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ClusterConfig {
    /// Base URL other nodes reach this one at (`http://host:port`); empty: `http://` and
    /// `server.listen`.
    pub(crate) advertise: String,
    /// Secret of requests forwarded between nodes; empty: derived from the CometD key file
    /// (which every node shares already).
    pub(crate) secret: String,
    /// How long a session directory entry lasts between its owner's writes (it rewrites
    /// each between half and three quarters of this after the last write). Whether the
    /// owner is alive is its node lease's business (`store.lease_ttl_ms`), not this.
    pub(crate) lease_ms: u64,
    /// How long an entry is kept past `lease_ms` without a write (its owner died), for its
    /// client to come back and have the session taken over. At least `store.lease_ttl_ms`
    /// + `cometd.max_interval_ms` + 5 s is used whatever is set.
    pub(crate) keep_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            advertise: String::new(),
            secret: String::new(),
            lease_ms: 300_000,
            keep_ms: 30_000,
        }
    }
}

impl ClusterConfig {
    /// The base URL other nodes reach this one at.
    pub(crate) fn advertise(&self, listen: SocketAddr) -> String {
        if self.advertise.is_empty() {
            format!("http://{listen}")
        } else {
            self.advertise.trim_end_matches('/').to_owned()
        }
    }

    /// How long entries last, given the node lease's TTL and the CometD `maxInterval`
    /// (which the kept time covers at least).
    pub(crate) fn lease(
        &self,
        node_lease_ttl: Duration,
        max_interval: Duration,
    ) -> chinwag_bayeux::cluster::Lease {
        chinwag_bayeux::cluster::Lease {
            lease: Duration::from_millis(self.lease_ms),
            keep: Duration::from_millis(self.keep_ms)
                .max(node_lease_ttl + max_interval + Duration::from_secs(5)),
        }
    }

    /// Checks the settings.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !self.advertise.is_empty() && !self.advertise.starts_with("http://") {
            return Err(
                "cluster.advertise must be an http:// base URL such as http://10.0.0.5:8080".into(),
            );
        }
        if !self.secret.is_empty() && self.secret.len() < 16 {
            return Err("cluster.secret must be at least 16 characters".into());
        }
        if !(3_000..=3_600_000).contains(&self.lease_ms) {
            return Err("cluster.lease_ms must be between 3000 and 3600000".into());
        }
        if self.keep_ms > 3_600_000 {
            return Err("cluster.keep_ms must be at most 3600000".into());
        }
        Ok(())
    }
}
