//! `[server]`: listener, data directory, node identity, request sizes, and the connection
//! layer's caps and timeouts (translated into `chinwag_http::Settings`).

use anyhow::ensure;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ServerConfig {
    /// Address to listen on.
    pub(crate) listen: SocketAddr,
    /// Directory of the embedded store.
    pub(crate) data_dir: PathBuf,
    /// This node's numeric id: GMS `alias` and health `app_dbid`.
    pub(crate) node_id: u32,
    /// Largest accepted request body, in bytes.
    pub(crate) max_body_bytes: usize,
    /// Largest accepted request head (request line and headers), in bytes; also the size of
    /// each connection's HTTP buffer, which a held long-poll keeps.
    pub(crate) max_head_bytes: usize,
    /// Seconds an ended chat stays readable before it is purged.
    pub(crate) ended_retention_secs: u64,
    /// Seconds an open chat nobody used on this node stays in memory before it leaves it
    /// (read back from the store when next asked for); 0: never.
    pub(crate) idle_chat_eviction_secs: u64,
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client.
    pub(crate) trusted_proxies: Vec<String>,
    /// Connections open at once; 0: automatic (90 % of the open-file limit).
    pub(crate) max_connections: usize,
    /// Connections open at once from one address (IPv6: one /64).
    pub(crate) max_connections_per_ip: usize,
    /// Seconds a connection may sit idle between requests.
    pub(crate) idle_timeout_secs: u64,
    /// Seconds a request head may take to arrive once it has started.
    pub(crate) header_timeout_secs: u64,
    /// Seconds a request body may take to arrive.
    pub(crate) body_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let d = chinwag_http::Settings::default();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./chinwag-data"),
            node_id: 1,
            max_body_bytes: 64 * 1024,
            max_head_bytes: 8 * 1024,
            ended_retention_secs: 3600,
            idle_chat_eviction_secs: 600,
            trusted_proxies: Vec::new(),
            max_connections: 0,
            max_connections_per_ip: d.max_per_ip,
            idle_timeout_secs: d.timeouts.idle.as_secs(),
            header_timeout_secs: d.timeouts.header.as_secs(),
            body_timeout_secs: d.timeouts.body.as_secs(),
        }
    }
}

/// Descriptors kept for everything that is not a client connection (the database, logs,
/// push connections, refusals).
const RESERVED_FDS: usize = 128;

impl ServerConfig {
    /// Checks the settings.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        ensure!(
            self.max_body_bytes >= 1024,
            "server.max_body_bytes must be at least 1024"
        );
        ensure!(
            (8192..=1 << 20).contains(&self.max_head_bytes),
            "server.max_head_bytes must be between 8192 and 1048576"
        );
        ensure!(
            self.max_connections_per_ip >= 1,
            "server.max_connections_per_ip must be at least 1"
        );
        for (name, v) in [
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("header_timeout_secs", self.header_timeout_secs),
            ("body_timeout_secs", self.body_timeout_secs),
        ] {
            ensure!(
                (1..=3600).contains(&v),
                "server.{name} must be between 1 and 3600"
            );
        }
        chinwag_http::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("server.trusted_proxies: {e}"))?;
        Ok(())
    }

    /// How long an open chat may sit unused in memory (`None`: for ever).
    pub(crate) fn idle_chat_eviction(&self) -> Option<Duration> {
        (self.idle_chat_eviction_secs > 0)
            .then(|| Duration::from_secs(self.idle_chat_eviction_secs))
    }

    /// The connection layer's settings, given the process's open-file limit.
    pub(crate) fn http(&self, fd_limit: Option<u64>) -> chinwag_http::Settings {
        let by_fds = fd_limit.map_or(usize::MAX, |n| {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            n.saturating_sub(RESERVED_FDS).saturating_mul(9) / 10
        });
        let d = chinwag_http::Settings::default();
        let max_connections = match self.max_connections {
            0 => by_fds.clamp(16, 1_000_000),
            n => n.min(by_fds.max(16)),
        };
        chinwag_http::Settings {
            max_connections,
            max_per_ip: self.max_connections_per_ip,
            timeouts: chinwag_http::Timeouts {
                idle: Duration::from_secs(self.idle_timeout_secs),
                header: Duration::from_secs(self.header_timeout_secs),
                body: Duration::from_secs(self.body_timeout_secs),
            },
            head_bytes: self.max_head_bytes,
            ..d
        }
    }
}
