//! The configuration file (TOML), its defaults, and its translation into the settings of the
//! engine and adapters. Every field is documented in `chinwag.example.toml`, which a test
//! parses and checks against these types.

mod check;
mod push;
mod push_channels;

pub(crate) use check::validate;

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Config {
    /// Listener, data directory, node identity.
    pub(crate) server: ServerConfig,
    /// Embedded store tuning.
    pub(crate) store: StoreConfig,
    /// Chat services by name.
    pub(crate) services: BTreeMap<String, ServiceConfig>,
    /// Routing queues by name.
    pub(crate) queues: BTreeMap<String, QueueConfig>,
    /// Agent accounts.
    pub(crate) agents: Vec<AgentConfig>,
    pub(crate) cometd: CometdConfig,
    /// Push notifications.
    pub(crate) push: push::PushSection,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: ServerConfig::default(),
            store: StoreConfig::default(),
            services: BTreeMap::from([("customer-support".to_owned(), ServiceConfig::default())]),
            queues: BTreeMap::from([("default".to_owned(), QueueConfig::default())]),
            agents: vec![AgentConfig::default()],
            cometd: CometdConfig::default(),
            push: push::PushSection::default(),
        }
    }
}

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
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./chinwag-data"),
            node_id: 1,
            max_body_bytes: 64 * 1024,
            max_head_bytes: 8 * 1024,
            ended_retention_secs: 3600,
        }
    }
}

/// `[store]`
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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct StoreConfig {
    /// Largest database size in MiB (0 = no limit). Writes beyond it fail with GMS code 500.
    pub(crate) max_size_mb: u64,
}

/// `[services.<name>]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ServiceConfig {
    /// Queue its chats are routed to.
    pub(crate) queue: String,
    /// Open chats allowed at once (beyond: GMS code 240).
    pub(crate) max_sessions: usize,
    /// Longest message in characters (beyond: GMS code 204).
    pub(crate) max_message_length: usize,
    /// Required `apikey` request header.
    pub(crate) apikey: Option<String>,
    /// Required HTTP basic auth.
    pub(crate) basic_auth: Option<BasicAuth>,
    /// Browser origins allowed cross-site; `"*"` for any.
    pub(crate) cors_origins: Vec<String>,
    /// Refresh of an ended chat answers HTTP 400 (GMS `_chat_400_response_on_disconnected`).
    pub(crate) chat_400_response_on_disconnected: bool,
    /// Out of service: every request answers 503.
    pub(crate) maintenance: bool,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            queue: "default".into(),
            max_sessions: 100_000,
            max_message_length: 4096,
            apikey: None,
            basic_auth: None,
            cors_origins: Vec::new(),
            chat_400_response_on_disconnected: false,
            maintenance: false,
        }
    }
}

/// Basic auth credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BasicAuth {
    /// User name.
    pub(crate) username: String,
    /// Password.
    pub(crate) password: String,
}

/// `[queues.<name>]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct QueueConfig {
    /// Seconds an agent has to accept an offer.
    pub(crate) offer_timeout_secs: f64,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            offer_timeout_secs: 30.0,
        }
    }
}

/// `[[agents]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct AgentConfig {
    /// Account id.
    pub(crate) id: String,
    /// Nickname shown to customers.
    pub(crate) name: String,
    /// Login token (keep secret).
    pub(crate) token: String,
    /// Queues served.
    pub(crate) queues: Vec<String>,
    /// Concurrent chats.
    pub(crate) capacity: u32,
    /// `"agent"` or `"supervisor"`.
    pub(crate) role: String,
}

/// The token of the built-in demo account (only present when no `[[agents]]` are configured).
pub(crate) const DEMO_TOKEN: &str = "demo-agent-token";

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            id: "demo".into(),
            name: "Demo Agent".into(),
            token: DEMO_TOKEN.into(),
            queues: vec!["default".into()],
            capacity: 3,
            role: "agent".into(),
        }
    }
}

impl Config {
    /// Reads `path`, or the defaults when `path` is `None`.
    pub(crate) fn load(path: Option<&std::path::Path>) -> anyhow::Result<Self> {
        use anyhow::Context;
        match path {
            None => Ok(Self::default()),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("while reading {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("while parsing {}", p.display()))
            }
        }
    }
}
