//! `[push]`: push channels, reliable delivery and the delivery worker, translated into the
//! engine's `PushSettings` and the worker's `PushConfig`.

use super::push_channels::{
    ChannelsSection, CustomHttpSection, FcmSection, IosSection, TemplateSection,
};
use anyhow::{Context, bail, ensure};
use chinwag_core::push::{DeviceType, PushSettings};
use chinwag_push::{Content, PushConfig, RetryPolicy};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// `[push]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct PushSection {
    pub(crate) enabled: Vec<String>,
    pub(crate) on_join: bool,
    pub(crate) timeout_secs: u64,
    pub(crate) shutdown_notify: bool,
    pub(crate) include_payload: bool,
    pub(crate) to_active_client: bool,
    pub(crate) presence_grace_ms: u64,
    pub(crate) resend_delay_secs: u64,
    pub(crate) resend_attempts: u32,
    pub(crate) content: Vec<String>,
    pub(crate) concurrency: usize,
    pub(crate) request_timeout_ms: u64,
    pub(crate) retry_max_tries: u32,
    pub(crate) retry_base_ms: u64,
    pub(crate) retry_max_ms: u64,
    pub(crate) customhttp: Option<CustomHttpSection>,
    pub(crate) fcm: Option<FcmSection>,
    pub(crate) ios: Option<IosSection>,
    pub(crate) templates: BTreeMap<String, TemplateSection>,
    /// `[push.provider.<name>]`, each with the same channel sections.
    pub(crate) provider: BTreeMap<String, ChannelsSection>,
}

impl Default for PushSection {
    fn default() -> Self {
        let d = PushConfig::default();
        Self {
            enabled: Vec::new(),
            on_join: false,
            timeout_secs: 86_400,
            shutdown_notify: false,
            include_payload: d.include_payload,
            to_active_client: d.to_active_client,
            presence_grace_ms: 0,
            resend_delay_secs: d.resend_delay.as_secs(),
            resend_attempts: d.resend_attempts,
            content: vec!["session-id".into(), "user-id".into()],
            concurrency: d.concurrency,
            request_timeout_ms: 10_000,
            retry_max_tries: d.retry.max_tries,
            retry_base_ms: 500,
            retry_max_ms: 60_000,
            customhttp: None,
            fcm: None,
            ios: None,
            templates: BTreeMap::new(),
            provider: BTreeMap::new(),
        }
    }
}

impl PushSection {
    /// Checks the section and splits it into the engine's and the worker's settings.
    pub(crate) fn validate(&self) -> anyhow::Result<(PushSettings, PushConfig)> {
        let mut enabled = Vec::new();
        for name in &self.enabled {
            match name.trim() {
                // GMS lists "comet" among push types; CometD is always on in Chinwag.
                "comet" => {}
                other => match DeviceType::parse(other) {
                    Some(t) => enabled.push(t),
                    None => bail!("push.enabled: unknown push type \"{other}\""),
                },
            }
        }
        let default = ChannelsSection {
            customhttp: self.customhttp.clone(),
            fcm: self.fcm.clone(),
            ios: self.ios.clone(),
            templates: self.templates.clone(),
        }
        .validate("push")?;
        let mut providers = std::collections::HashMap::new();
        for (name, c) in &self.provider {
            providers.insert(name.clone(), c.validate(&format!("push.provider.{name}"))?);
        }
        for t in &enabled {
            let configured = |p: &chinwag_push::ProviderConfig| match t {
                DeviceType::CustomHttp => p.customhttp.is_some(),
                DeviceType::Fcm => p.fcm.is_some(),
                DeviceType::Ios => p.ios.is_some(),
            };
            ensure!(
                configured(&default) || providers.values().any(configured),
                "push.enabled has {0} but no [push.{0}] section (nor one under a provider)",
                t.as_str()
            );
        }
        let content = self
            .content
            .iter()
            .map(|c| {
                Content::parse(c).with_context(|| format!("push.content: unknown token \"{c}\""))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        ensure!(self.concurrency >= 1, "push.concurrency must be at least 1");
        ensure!(
            self.retry_max_tries >= 1,
            "push.retry_max_tries must be at least 1"
        );
        ensure!(
            (1..=86_400).contains(&self.resend_delay_secs),
            "push.resend_delay_secs must be between 1 and 86400"
        );
        ensure!(
            self.presence_grace_ms <= 3_600_000,
            "push.presence_grace_ms must be at most 3600000"
        );
        let engine = PushSettings {
            enabled,
            on_join: self.on_join,
            timeout_ms: (self.timeout_secs > 0)
                .then(|| i64::try_from(self.timeout_secs.saturating_mul(1000)).unwrap_or(i64::MAX)),
            shutdown_notify: self.shutdown_notify,
        };
        let worker = PushConfig {
            default,
            providers,
            include_payload: self.include_payload,
            to_active_client: self.to_active_client,
            // 0: set from the CometD timings by `check::validate`.
            presence_grace: Duration::from_millis(self.presence_grace_ms),
            resend_delay: Duration::from_secs(self.resend_delay_secs),
            resend_attempts: self.resend_attempts,
            content,
            concurrency: self.concurrency,
            timeout: Duration::from_millis(self.request_timeout_ms.max(1)),
            retry: RetryPolicy {
                max_tries: self.retry_max_tries,
                base: Duration::from_millis(self.retry_base_ms.max(1)),
                max: Duration::from_millis(self.retry_max_ms.max(self.retry_base_ms).max(1)),
            },
        };
        Ok((engine, worker))
    }
}
