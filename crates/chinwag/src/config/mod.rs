//! The configuration file (TOML), its defaults, and its translation into the settings of the
//! engine and adapters. Every field is documented in `chinwag.example.toml`, which a test
//! parses and checks against these types.

mod check;
mod cluster;
mod cometd;
mod desk;
mod files;
mod inactivity;
mod limits;
mod push;
mod push_channels;
mod scan;
mod server;
mod store;
mod web;

pub(crate) use check::validate;
pub(crate) use cluster::ClusterConfig;
pub(crate) use cometd::CometdConfig;
pub(crate) use files::FileStore;
pub(crate) use scan::ScanTarget;
pub(crate) use server::ServerConfig;
pub(crate) use store::StoreConfig;
pub(crate) use web::{WebConfig, uses_demo_agent};

use serde::Deserialize;
use std::collections::BTreeMap;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Config {
    /// Listener, data directory, node identity.
    pub(crate) server: ServerConfig,
    /// Which store holds the chats, and its tuning.
    pub(crate) store: StoreConfig,
    /// Chat services by name.
    pub(crate) services: BTreeMap<String, ServiceConfig>,
    /// Routing queues by name.
    pub(crate) queues: BTreeMap<String, QueueConfig>,
    /// Agent accounts.
    pub(crate) agents: Vec<AgentConfig>,
    pub(crate) cometd: CometdConfig,
    /// Taking part in a cluster (nodes sharing a Redis store).
    pub(crate) cluster: ClusterConfig,
    /// Push notifications.
    pub(crate) push: push::PushSection,
    /// Where uploaded files are kept.
    pub(crate) files: files::FileStoreConfig,
    /// Which browser parts are served (widget, console, demo).
    pub(crate) web: WebConfig,
    /// The not-ready reasons agents pick from.
    pub(crate) presence: desk::PresenceConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: ServerConfig::default(),
            store: StoreConfig::default(),
            services: BTreeMap::from([("customer-support".to_owned(), ServiceConfig::default())]),
            queues: BTreeMap::from([("default".to_owned(), QueueConfig::default())]),
            agents: vec![AgentConfig::demo()],
            cometd: CometdConfig::default(),
            cluster: ClusterConfig::default(),
            push: push::PushSection::default(),
            files: files::FileStoreConfig::default(),
            web: WebConfig::default(),
            presence: desk::PresenceConfig::default(),
        }
    }
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
    /// What one chat may hold and how fast clients may act.
    pub(crate) limits: limits::LimitsConfig,
    /// Alerts to a silent customer, then the chat's close (Chat Server's
    /// `[inactivity-control]`).
    pub(crate) inactivity_control: inactivity::InactivityConfig,
    /// File transfer: on or off, and the limits (Chat Server's file limits).
    pub(crate) files: files::FilesConfig,
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
            limits: limits::LimitsConfig::default(),
            inactivity_control: inactivity::InactivityConfig::default(),
            files: files::FilesConfig::default(),
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
    /// Seconds a chat may wait for an agent before it is closed; 0: no limit.
    pub(crate) max_wait_secs: u64,
    /// Canned responses its agents may pick (`[{ label, text }]`).
    pub(crate) canned: Vec<desk::CannedConfig>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            offer_timeout_secs: 30.0,
            max_wait_secs: 3600,
            canned: Vec::new(),
        }
    }
}

/// `[[agents]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct AgentConfig {
    /// Account id.
    pub(crate) id: String,
    /// Nickname shown to customers (the id when empty).
    pub(crate) name: String,
    /// Agent API token (keep secret); an account needs this, a password hash, or both.
    pub(crate) token: Option<String>,
    /// The console password's argon2id PHC string (`chinwag agent add|passwd` writes it).
    pub(crate) password_hash: Option<String>,
    /// Queues served.
    pub(crate) queues: Vec<String>,
    /// Concurrent chats.
    pub(crate) capacity: u32,
    /// `"agent"` or `"supervisor"`.
    pub(crate) role: String,
}

/// The id of the built-in demo account (only present when no `[[agents]]` are configured).
pub(crate) const DEMO_ID: &str = "demo";
/// The token of the built-in demo account.
pub(crate) const DEMO_TOKEN: &str = "demo-agent-token";

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            token: None,
            password_hash: None,
            queues: vec!["default".into()],
            capacity: 3,
            role: "agent".into(),
        }
    }
}

impl AgentConfig {
    /// The built-in demo account.
    fn demo() -> Self {
        Self {
            id: DEMO_ID.into(),
            name: "Demo Agent".into(),
            token: Some(DEMO_TOKEN.into()),
            ..Self::default()
        }
    }

    /// Whether this is the built-in demo account.
    pub(crate) fn is_demo(&self) -> bool {
        self.id == DEMO_ID && self.token.as_deref() == Some(DEMO_TOKEN)
    }
}

impl Config {
    /// The configuration with no file at all: the defaults, and the built-in canned
    /// responses on the default queue (a file starts without any).
    pub(crate) fn builtin() -> Self {
        let mut cfg = Self::default();
        for q in cfg.queues.values_mut() {
            q.canned = desk::builtin_canned();
        }
        cfg
    }

    /// Reads `path`, or the built-in configuration when `path` is `None`.
    pub(crate) fn load(path: Option<&std::path::Path>) -> anyhow::Result<Self> {
        use anyhow::Context;
        match path {
            None => Ok(Self::builtin()),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("while reading {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("while parsing {}", p.display()))
            }
        }
    }
}
