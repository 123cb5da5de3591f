//! `[cluster]`: how this node takes part in a cluster of nodes sharing a Redis store — the
//! address other nodes reach it at, the secret forwarded requests carry, and the session
//! lease. Only used when `store.url` names Redis.

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
    /// A node that has not renewed its sessions' lease for this long is taken as gone.
    pub(crate) lease_ms: u64,
    /// How long a gone node's sessions can still be taken over after their lease ran out.
    pub(crate) keep_ms: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            advertise: String::new(),
            secret: String::new(),
            lease_ms: 15_000,
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

    /// The lease settings.
    pub(crate) fn lease(&self) -> chinwag_bayeux::cluster::Lease {
        chinwag_bayeux::cluster::Lease {
            lease: Duration::from_millis(self.lease_ms),
            keep: Duration::from_millis(self.keep_ms),
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
        if !(3_000..=300_000).contains(&self.lease_ms) {
            return Err("cluster.lease_ms must be between 3000 and 300000".into());
        }
        if self.keep_ms > 3_600_000 {
            return Err("cluster.keep_ms must be at most 3600000".into());
        }
        Ok(())
    }
}
