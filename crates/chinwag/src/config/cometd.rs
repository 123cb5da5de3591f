//! `[cometd]`: the Bayeux endpoint carrying GMS Chat API v2 over CometD, translated into
//! the Bayeux server's settings, and where its secure-key file lives.

use serde::Deserialize;
use std::path::PathBuf;

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
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) broadcast: bool,
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
            key_file: None,
        }
    }
}

impl CometdConfig {
    /// The Bayeux server settings.
    pub(crate) fn bayeux(&self) -> chinwag_bayeux::BayeuxConfig {
        use std::time::Duration;
        chinwag_bayeux::BayeuxConfig {
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
            allowed_origins: self.allowed_origins.clone(),
            ..chinwag_bayeux::BayeuxConfig::default()
        }
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
        Ok(())
    }
}
