//! `[cometd]`: the Bayeux endpoint carrying GMS Chat API v2 over CometD, translated into
//! the Bayeux server's settings, and where its secure-key file lives.

use super::limits::RateConfig;
use chinwag_http::{Origins, TrustedProxies};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// `[cometd]`: the Bayeux endpoint carrying GMS Chat API v2 over CometD.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct CometdConfig {
    pub(crate) enabled: bool,
    pub(crate) path: String,
    pub(crate) timeout_ms: u64,
    pub(crate) max_interval_ms: u64,
    pub(crate) max_queue: usize,
    pub(crate) max_sessions_per_browser: u32,
    pub(crate) multi_session_interval_ms: u64,
    pub(crate) max_message_bytes: usize,
    pub(crate) websocket: bool,
    pub(crate) callback_polling: bool,
    pub(crate) cross_site_cookie: bool,
    pub(crate) secure_cookie: bool,
    /// Deprecated: origins listed here are added to every service's `cors_origins`.
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) broadcast: bool,
    /// Bytes queued for one client (deliveries not yet taken, plus unacknowledged ones with
    /// the ack extension) before it is dropped.
    pub(crate) max_queue_bytes: usize,
    /// CometD sessions at once.
    pub(crate) max_clients: usize,
    /// Broadcast subscriptions per session.
    pub(crate) max_subscriptions: usize,
    /// Handshakes per client address.
    pub(crate) handshakes_per_ip: RateConfig,
    /// WebSocket: ping after this long without a frame from the client (0: never).
    pub(crate) ws_ping_interval_ms: u64,
    /// WebSocket: close when nothing answers a ping within this long.
    pub(crate) ws_pong_timeout_ms: u64,
    /// WebSocket: close when one frame cannot be written within this long.
    pub(crate) ws_send_timeout_ms: u64,
    /// The file of server keys sealing CometD secure keys (default: `cometd.key` in the
    /// data directory, created on first start).
    pub(crate) key_file: Option<PathBuf>,
}

impl Default for CometdConfig {
    fn default() -> Self {
        let b = chinwag_bayeux::BayeuxConfig::default();
        Self {
            enabled: true,
            path: "/genesys/cometd".into(),
            timeout_ms: u64::try_from(b.timeout.as_millis()).unwrap_or(25_000),
            max_interval_ms: u64::try_from(b.max_interval.as_millis()).unwrap_or(10_000),
            max_queue: b.max_queue,
            max_sessions_per_browser: b.max_sessions_per_browser,
            multi_session_interval_ms: 2_000,
            max_message_bytes: b.max_message_bytes,
            websocket: true,
            callback_polling: true,
            cross_site_cookie: false,
            secure_cookie: false,
            allowed_origins: Vec::new(),
            broadcast: false,
            max_queue_bytes: b.max_queue_bytes,
            max_clients: b.max_clients,
            max_subscriptions: b.max_subscriptions,
            handshakes_per_ip: b.handshakes_per_ip.into(),
            ws_ping_interval_ms: ms(b.ws_ping_interval),
            ws_pong_timeout_ms: ms(b.ws_pong_timeout),
            ws_send_timeout_ms: ms(b.ws_send_timeout),
            key_file: None,
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Request headers handed to the GMS service: its credentials, and the `Host` that tells a
/// page's own origin from a foreign one.
const FORWARD_HEADERS: [&str; 3] = ["apikey", "authorization", "host"];

impl CometdConfig {
    /// The Bayeux server settings: `origins` is every origin some service allows, `trusted`
    /// the proxies whose `X-Forwarded-For` is believed.
    pub(crate) fn bayeux(
        &self,
        origins: Origins,
        trusted: Arc<TrustedProxies>,
    ) -> anyhow::Result<chinwag_bayeux::BayeuxConfig> {
        Ok(chinwag_bayeux::BayeuxConfig {
            timeout: Duration::from_millis(self.timeout_ms),
            max_interval: Duration::from_millis(self.max_interval_ms),
            max_queue: self.max_queue,
            max_sessions_per_browser: self.max_sessions_per_browser,
            multi_session_interval: Duration::from_millis(self.multi_session_interval_ms),
            max_message_bytes: self.max_message_bytes,
            websocket: self.websocket,
            callback_polling: self.callback_polling,
            cookie: chinwag_bayeux::CookieConfig {
                cross_site: self.cross_site_cookie,
                secure: self.secure_cookie,
                ..chinwag_bayeux::CookieConfig::default()
            },
            origins,
            trusted_proxies: trusted,
            forward_headers: FORWARD_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
            max_queue_bytes: self.max_queue_bytes,
            max_clients: self.max_clients,
            max_subscriptions: self.max_subscriptions,
            handshakes_per_ip: self.handshakes_per_ip.rate("cometd.handshakes_per_ip")?,
            ws_ping_interval: Duration::from_millis(self.ws_ping_interval_ms),
            ws_pong_timeout: Duration::from_millis(self.ws_pong_timeout_ms),
            ws_send_timeout: Duration::from_millis(self.ws_send_timeout_ms),
            ..chinwag_bayeux::BayeuxConfig::default()
        })
    }

    /// Checks the settings.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !self.path.starts_with('/') || self.path.len() < 2 {
            return Err("cometd.path must be an absolute path such as /genesys/cometd".into());
        }
        if !(1_000..=120_000).contains(&self.timeout_ms) {
            return Err("cometd.timeout_ms must be between 1000 and 120000".into());
        }
        if self.max_interval_ms < 1_000 {
            return Err("cometd.max_interval_ms must be at least 1000".into());
        }
        if self.max_queue == 0 || self.max_message_bytes < 1024 {
            return Err(
                "cometd.max_queue must be positive and max_message_bytes at least 1024".into(),
            );
        }
        if self.max_clients == 0 || self.max_subscriptions == 0 {
            return Err("cometd.max_clients and max_subscriptions must be positive".into());
        }
        if self.ws_pong_timeout_ms < 1_000 || self.ws_send_timeout_ms < 1_000 {
            return Err(
                "cometd.ws_pong_timeout_ms and ws_send_timeout_ms must be at least 1000".into(),
            );
        }
        Ok(())
    }
}
