//! `[services.<name>.inactivity_control]`: Chat Server's `[inactivity-control]` options
//! (`enabled`, `timeout-alert`, `timeout-alert2`, `timeout-close`, `message-alert`,
//! `message-alert2`, `message-close`, `include-notices`) in this file's naming, and their
//! translation into the engine's [`InactivitySettings`].

use anyhow::{bail, ensure};
use chinwag_core::settings::{IdleNotices, InactivitySettings};
use serde::Deserialize;

/// `[services.<name>.inactivity_control]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct InactivityConfig {
    pub(crate) enabled: bool,
    pub(crate) timeout_alert_secs: u64,
    pub(crate) timeout_alert2_secs: u64,
    pub(crate) timeout_close_secs: u64,
    pub(crate) message_alert: String,
    pub(crate) message_alert2: String,
    pub(crate) message_close: String,
    pub(crate) include_notices: String,
}

impl Default for InactivityConfig {
    fn default() -> Self {
        let d = InactivitySettings::default();
        let secs = |ms: i64| u64::try_from(ms / 1000).unwrap_or(0);
        Self {
            enabled: d.enabled,
            timeout_alert_secs: secs(d.alert_after_ms),
            timeout_alert2_secs: d.alert2_after_ms.map_or(0, secs),
            timeout_close_secs: secs(d.close_after_ms),
            message_alert: d.message_alert,
            message_alert2: d.message_alert2,
            message_close: d.message_close,
            include_notices: "major".into(),
        }
    }
}

/// Longest timeout accepted (20 days, Chat Server's async limit).
const MAX_SECS: u64 = 1_728_000;

impl InactivityConfig {
    /// The engine's settings for service `name`, checked.
    pub(crate) fn settings(&self, name: &str) -> anyhow::Result<InactivitySettings> {
        let at = format!("services.{name}.inactivity_control");
        for (key, v, min) in [
            ("timeout_alert_secs", self.timeout_alert_secs, 1),
            ("timeout_alert2_secs", self.timeout_alert2_secs, 0),
            ("timeout_close_secs", self.timeout_close_secs, 1),
        ] {
            ensure!(
                (min..=MAX_SECS).contains(&v),
                "{at}.{key} must be between {min} and {MAX_SECS}"
            );
        }
        let include_notices = match self.include_notices.as_str() {
            "none" => IdleNotices::None,
            "major" => IdleNotices::Major,
            "major2" => IdleNotices::Major2,
            "typing" => IdleNotices::Typing,
            "all" => IdleNotices::All,
            other => bail!(
                "{at}.include_notices '{other}' must be one of none, major, major2, typing, all"
            ),
        };
        let ms = |secs: u64| i64::try_from(secs * 1000).unwrap_or(i64::MAX);
        Ok(InactivitySettings {
            enabled: self.enabled,
            alert_after_ms: ms(self.timeout_alert_secs),
            alert2_after_ms: (self.timeout_alert2_secs > 0).then(|| ms(self.timeout_alert2_secs)),
            close_after_ms: ms(self.timeout_close_secs),
            message_alert: self.message_alert.clone(),
            message_alert2: self.message_alert2.clone(),
            message_close: self.message_close.clone(),
            include_notices,
        })
    }
}
