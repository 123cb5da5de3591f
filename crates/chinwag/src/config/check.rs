//! Validation of a loaded configuration and its translation into engine and adapter settings.

use super::Config;
use anyhow::{bail, ensure};
use chinwag_agent_api::console::StoredHash;
use chinwag_core::ids::{AgentId, NodeAlias, QueueName, ServiceName};
use chinwag_core::settings::{
    AgentAccount, AgentRole, EngineSettings, QueueSettings, ServiceSettings,
};
use chinwag_gms_cometd::CometAccess;
use chinwag_gms_rest::access::ServiceAccess;
use chinwag_http::{Origins, TrustedProxies};
use std::collections::{HashMap, HashSet};

/// Everything the server needs, validated.
#[derive(Debug)]
pub(crate) struct Validated {
    /// Engine settings.
    pub(crate) engine: EngineSettings,
    /// REST access rules per service.
    pub(crate) access: HashMap<String, ServiceAccess>,
    /// CometD access rules per service.
    pub(crate) comet_access: HashMap<String, CometAccess>,
    /// Every origin some service allows (CometD's transport and GMS paths naming no service).
    pub(crate) all_origins: Origins,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub(crate) trusted: TrustedProxies,
    /// Push delivery settings.
    pub(crate) push: chinwag_push::PushConfig,
    /// Where uploaded files are kept.
    pub(crate) file_store: super::FileStore,
    /// The scan uploads pass, if any.
    pub(crate) file_scan: Option<super::ScanTarget>,
    /// The accounts that sign in to the console with a password, and their hashes.
    pub(crate) passwords: Vec<(AgentId, StoredHash)>,
}

/// Checks `cfg` and builds the settings; the error names the offending entry.
pub(crate) fn validate(cfg: &Config) -> anyhow::Result<Validated> {
    ensure!(
        !cfg.services.is_empty(),
        "at least one [services.<name>] is required"
    );
    cfg.server.check()?;
    cfg.store.check()?;
    cfg.cometd.check().map_err(anyhow::Error::msg)?;
    cfg.cluster.check().map_err(anyhow::Error::msg)?;
    cfg.web
        .check(
            &cfg.agents,
            cfg.cometd.enabled.then_some(cfg.cometd.path.as_str()),
        )
        .map_err(anyhow::Error::msg)?;
    let file_store = cfg
        .files
        .target(&cfg.server.data_dir, cfg.store.is_redis())?;
    let file_scan = cfg.files.scan.target()?;
    let trusted = TrustedProxies::parse(&cfg.server.trusted_proxies).map_err(anyhow::Error::msg)?;
    // Deprecated: `cometd.allowed_origins` now adds to every service's `cors_origins`.
    let legacy = &cfg.cometd.allowed_origins;
    let mut services = Vec::new();
    let mut access = HashMap::new();
    let mut comet_access = HashMap::new();
    for (name, s) in &cfg.services {
        ensure!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "service name '{name}' may only use letters, digits, '-', '_' and '.'"
        );
        ensure!(
            cfg.queues.contains_key(&s.queue),
            "services.{name}.queue '{}' is not a configured queue",
            s.queue
        );
        ensure!(
            s.max_sessions >= 1,
            "services.{name}.max_sessions must be at least 1"
        );
        ensure!(
            s.max_message_length >= 1,
            "services.{name}.max_message_length must be at least 1"
        );
        for o in &s.cors_origins {
            ensure!(
                o == "*" || o.starts_with("http://") || o.starts_with("https://"),
                "services.{name}.cors_origins entry '{o}' must be \"*\" or an http(s) origin"
            );
        }
        if let Some(key) = &s.apikey {
            ensure!(!key.is_empty(), "services.{name}.apikey must not be empty");
        }
        services.push(ServiceSettings {
            name: ServiceName::new(name.as_str()),
            queue: QueueName::new(s.queue.as_str()),
            max_sessions: s.max_sessions,
            max_message_length: s.max_message_length,
            maintenance: s.maintenance,
            limits: s.limits.limits(name)?,
            inactivity: s.inactivity_control.settings(name)?,
            files: s.files.settings(name)?,
        });
        let origins: Vec<String> = s.cors_origins.iter().chain(legacy).cloned().collect();
        let origins = Origins::new(&origins);
        let basic_auth = s
            .basic_auth
            .as_ref()
            .map(|b| (b.username.clone(), b.password.clone()));
        access.insert(
            name.clone(),
            ServiceAccess {
                apikey: s.apikey.clone(),
                basic_auth: basic_auth.clone(),
                origins: origins.clone(),
                chat_400_response_on_disconnected: s.chat_400_response_on_disconnected,
                upload_max_file_size: s.files.upload_max_file_size,
            },
        );
        comet_access.insert(
            name.clone(),
            CometAccess {
                apikey: s.apikey.clone(),
                basic_auth,
                origins,
            },
        );
    }
    let all_origins = Origins::union(access.values().map(|a| &a.origins));
    // A client's queue must hold a whole transcript sent at once (a requestNotifications
    // from position 1), with room for the notification envelopes around it.
    let biggest = services
        .iter()
        .map(|s| s.limits.max_chat_bytes)
        .max()
        .unwrap_or(0);
    // And as many notifications as a transcript can take pages, since a resume queues them
    // all before the client's next connect.
    for (svc, c) in services.iter().zip(cfg.services.values()) {
        let pages = chinwag_core::validate::max_pages(&svc.limits, c.max_message_length);
        ensure!(
            cfg.cometd.max_queue > pages,
            "cometd.max_queue ({}) must be more than the {pages} notifications a whole transcript of services.{} can take (raise it, or lower that service's max_chat_bytes or raise its max_response_bytes)",
            cfg.cometd.max_queue,
            svc.name
        );
    }
    ensure!(
        cfg.cometd.max_queue_bytes >= biggest.saturating_mul(2),
        "cometd.max_queue_bytes ({}) must be at least twice the largest services.*.limits.max_chat_bytes ({biggest})",
        cfg.cometd.max_queue_bytes
    );
    let mut queues = Vec::new();
    for (name, q) in &cfg.queues {
        ensure!(
            q.offer_timeout_secs > 0.0 && q.offer_timeout_secs <= 3600.0,
            "queues.{name}.offer_timeout_secs must be in (0, 3600]"
        );
        queues.push(QueueSettings {
            name: QueueName::new(name.as_str()),
            offer_timeout_ms: (q.offer_timeout_secs * 1000.0) as i64,
            max_wait_ms: (q.max_wait_secs > 0)
                .then(|| i64::try_from(q.max_wait_secs.saturating_mul(1000)).unwrap_or(i64::MAX)),
        });
    }
    let (mut ids, mut tokens) = (HashSet::new(), HashSet::new());
    let mut agents = Vec::new();
    let mut passwords = Vec::new();
    for a in &cfg.agents {
        ensure!(!a.id.is_empty(), "every agent needs an id");
        ensure!(
            ids.insert(a.id.clone()),
            "agent id '{}' is used twice",
            a.id
        );
        ensure!(
            a.token.is_some() || a.password_hash.is_some(),
            "agent '{}' needs a token, a password_hash, or both",
            a.id
        );
        if let Some(token) = &a.token {
            ensure!(
                token.len() >= 8,
                "agent '{}' token must be at least 8 characters",
                a.id
            );
            ensure!(
                tokens.insert(token.clone()),
                "agent '{}' reuses another agent's token",
                a.id
            );
        }
        if let Some(text) = &a.password_hash {
            let hash = StoredHash::parse(text)
                .map_err(|e| anyhow::anyhow!("agent '{}' password_hash: {e}", a.id))?;
            passwords.push((AgentId::new(a.id.as_str()), hash));
        }
        ensure!(
            a.capacity >= 1,
            "agent '{}' capacity must be at least 1",
            a.id
        );
        for q in &a.queues {
            ensure!(
                cfg.queues.contains_key(q),
                "agent '{}' serves unknown queue '{q}'",
                a.id
            );
        }
        let role = match a.role.as_str() {
            "agent" => AgentRole::Agent,
            "supervisor" => AgentRole::Supervisor,
            other => bail!(
                "agent '{}' role '{other}' must be \"agent\" or \"supervisor\"",
                a.id
            ),
        };
        agents.push(AgentAccount {
            id: AgentId::new(a.id.as_str()),
            name: if a.name.is_empty() {
                a.id.clone()
            } else {
                a.name.clone()
            },
            token: a.token.clone().unwrap_or_default(),
            queues: a
                .queues
                .iter()
                .map(|q| QueueName::new(q.as_str()))
                .collect(),
            capacity: a.capacity,
            role,
        });
    }
    let canned = cfg
        .queues
        .iter()
        .map(|(name, q)| (name.clone(), q.canned.clone()))
        .collect();
    let desk = super::desk::settings(&cfg.presence, &canned)?;
    let (push, mut push_worker) = cfg.push.validate()?;
    if cfg.push.presence_grace_ms == 0 {
        // Long enough for a lost CometD client to be known gone: a held connect, then
        // maxInterval without one, then the sweep.
        push_worker.presence_grace = std::time::Duration::from_millis(
            cfg.cometd.timeout_ms + cfg.cometd.max_interval_ms + 5_000,
        );
    }
    let engine = EngineSettings {
        alias: NodeAlias(cfg.server.node_id),
        services,
        queues,
        agents,
        ended_retention_ms: i64::try_from(cfg.server.ended_retention_secs.saturating_mul(1000))
            .unwrap_or(i64::MAX),
        push,
        desk,
    };
    Ok(Validated {
        engine,
        access,
        comet_access,
        all_origins,
        trusted,
        push: push_worker,
        file_store,
        file_scan,
        passwords,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert!(validate(&Config::default()).is_ok());
    }

    #[test]
    fn a_password_only_agent_is_valid_and_ends_the_demo() -> anyhow::Result<()> {
        let hash = chinwag_agent_api::console::hash_password("long enough")?;
        let text = format!("[[agents]]\nid = \"a\"\npassword_hash = \"{hash}\"\n");
        let cfg: Config = toml::from_str(&text)?;
        let v = validate(&cfg)?;
        assert_eq!(v.passwords.len(), 1);
        assert!(v.engine.agents[0].token.is_empty(), "no token");
        assert!(!crate::config::uses_demo_agent(&cfg.agents));
        assert!(crate::config::uses_demo_agent(&Config::default().agents));
        Ok(())
    }

    #[test]
    fn the_example_file_parses_and_validates() -> anyhow::Result<()> {
        let text = include_str!("../../../../chinwag.example.toml");
        let cfg: Config = toml::from_str(text)?;
        let v = validate(&cfg)?;
        assert!(
            v.access.values().any(|a| a.apikey.is_some()),
            "the example documents apikey"
        );
        Ok(())
    }

    #[test]
    fn bad_configs_are_refused_with_a_reason() {
        let cases = [
            ("[services.x]\nqueue = \"nope\"\n", "not a configured queue"),
            ("[[agents]]\nid = \"a\"\ntoken = \"short\"\n", "at least 8"),
            (
                "[[agents]]\nid = \"a\"\n",
                "agent 'a' needs a token, a password_hash, or both",
            ),
            (
                "[[agents]]\nid = \"a\"\npassword_hash = \"hunter22\"\n",
                "agent 'a' password_hash: not an argon2id PHC string",
            ),
            (
                "[[agents]]\ntoken = \"longenough\"\n",
                "every agent needs an id",
            ),
            ("[server]\nlisten = \"nowhere\"\n", "invalid socket address"),
            ("[services.x]\nunknown_key = 1\n", "unknown field"),
            (
                "[services.x.inactivity_control]\ntimeout_close_secs = 0\n",
                "timeout_close_secs must be between 1",
            ),
            (
                "[services.x.inactivity_control]\ninclude_notices = \"some\"\n",
                "include_notices",
            ),
            (
                "[[agents]]\nid = \"a\"\ntoken = \"longenough\"\nrole = \"boss\"\n",
                "role",
            ),
            (
                "[push]\nenabled = [\"fcm\"]\n",
                "push.enabled has fcm but no [push.fcm] section",
            ),
            ("[push]\nenabled = [\"pager\"]\n", "unknown push type"),
            (
                "[server]\ntrusted_proxies = [\"10.0.0.0/33\"]\n",
                "server.trusted_proxies",
            ),
            (
                "[services.x.limits]\nmax_chat_bytes = 8388608\n",
                "cometd.max_queue_bytes (8388608) must be at least twice",
            ),
            (
                "[services.x.limits]\nnew_chats_per_ip = { per_second = -1, burst = 1 }\n",
                "services.x.limits.new_chats_per_ip.per_second",
            ),
            (
                "[services.x.limits]\nmax_attributes_depth = 200\n",
                "max_attributes_depth must be between 1 and 64",
            ),
            ("[server]\nidle_timeout_secs = 0\n", "idle_timeout_secs"),
            (
                "[cometd]\npath = \"/widget/cometd\"\n",
                "cometd.path '/widget/cometd' is inside /widget/",
            ),
            ("[web]\ndemo = \"sometimes\"\n", "true, false or \"auto\""),
            ("[store]\nurl = \"postgres://x\"\n", "store.url"),
            ("[store]\nredis_partitions = 0\n", "store.redis_partitions"),
            (
                "[cluster]\nadvertise = \"10.0.0.1:80\"\n",
                "cluster.advertise",
            ),
            ("[cluster]\nsecret = \"short\"\n", "cluster.secret"),
            ("[cluster]\nlease_ms = 10\n", "cluster.lease_ms"),
            ("[store]\nredis_prefix = \"a{b}\"\n", "store.redis_prefix"),
            (
                "[cometd]\nmax_queue = 18\n",
                "cometd.max_queue (18) must be more than the 18 notifications",
            ),
            (
                "[push.templates.Notice]\ntitle = \"x\"\n",
                "not a pushed event type",
            ),
            (
                "[push.fcm]\nservice_account_file = \"/nonexistent/key.json\"\n",
                "push.fcm.service_account_file: cannot read",
            ),
            (
                "[push.provider.acme.customhttp]\nurl = \"ftp://x\"\n",
                "push.provider.acme.customhttp.url must be http or https",
            ),
            (
                "[services.x.files]\nupload_file_types = \"jpg:exe\"\n",
                "services.x.files.upload_file_types: 'exe'",
            ),
            (
                "[store]\nurl = \"redis://127.0.0.1:6379\"\n[files]\nstore = \"fs\"\n",
                "files.store = \"fs\" with a Redis chat store",
            ),
            ("[files]\nstore = \"s3\"\n", "files.s3.bucket is required"),
        ];
        for (text, expected) in cases {
            let result = toml::from_str::<Config>(text)
                .map_err(anyhow::Error::from)
                .and_then(|c| validate(&c).map(|_| ()));
            let msg = format!(
                "{:#}",
                result.err().map(|e| format!("{e:#}")).unwrap_or_default()
            );
            assert!(msg.contains(expected), "{text:?} gave {msg:?}");
        }
    }
}
