//! `[services.<name>.limits]`: what one chat may hold and how fast clients may act, and the
//! `{ per_second, burst }` rate tables used there and in `[cometd]`.

use anyhow::ensure;
use chinwag_core::settings::ServiceLimits;
use chinwag_limits::Rate;
use serde::Deserialize;

/// A rate as written in the file: `{ per_second = 0.2, burst = 10 }`; `per_second = 0`
/// turns the limit off.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RateConfig {
    pub(crate) per_second: f64,
    pub(crate) burst: u32,
}

impl From<Rate> for RateConfig {
    fn from(r: Rate) -> Self {
        Self {
            per_second: r.per_sec,
            burst: r.burst,
        }
    }
}

impl RateConfig {
    /// The rate, checked; `what` names it in errors.
    pub(crate) fn rate(&self, what: &str) -> anyhow::Result<Rate> {
        ensure!(
            self.per_second.is_finite() && self.per_second >= 0.0,
            "{what}.per_second must be a number, 0 or more"
        );
        ensure!(
            self.per_second == 0.0 || self.burst >= 1,
            "{what}.burst must be at least 1"
        );
        Ok(Rate::new(self.per_second, self.burst))
    }
}

/// `[services.<name>.limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LimitsConfig {
    pub(crate) max_events_per_chat: usize,
    pub(crate) max_chat_bytes: usize,
    pub(crate) max_user_data_keys: usize,
    pub(crate) max_user_data_bytes: usize,
    pub(crate) max_response_bytes: usize,
    pub(crate) max_attributes_bytes: usize,
    pub(crate) max_attributes_depth: usize,
    pub(crate) new_chats_per_ip: RateConfig,
    pub(crate) new_chats: RateConfig,
    pub(crate) requests_per_ip: RateConfig,
    pub(crate) requests: RateConfig,
    pub(crate) abandon_after_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let d = ServiceLimits::default();
        Self {
            max_events_per_chat: d.max_events_per_chat,
            max_chat_bytes: d.max_chat_bytes,
            max_user_data_keys: d.max_user_data_keys,
            max_user_data_bytes: d.max_user_data_bytes,
            max_response_bytes: d.max_response_bytes,
            max_attributes_bytes: d.max_attributes_bytes,
            max_attributes_depth: d.max_attributes_depth,
            new_chats_per_ip: d.create_per_ip.into(),
            new_chats: d.create_per_service.into(),
            requests_per_ip: d.ops_per_ip.into(),
            requests: d.ops_per_service.into(),
            abandon_after_secs: d.abandon_after_ms.map_or(0, |ms| (ms / 1000) as u64),
        }
    }
}

/// The deepest `eventAttributes` allowed: well inside the 128 levels the store reads back,
/// with room for the event around them.
const MAX_DEPTH: usize = 64;

impl LimitsConfig {
    /// The engine's limits for service `name`, checked.
    pub(crate) fn limits(&self, name: &str) -> anyhow::Result<ServiceLimits> {
        let at = format!("services.{name}.limits");
        for (key, v, min) in [
            ("max_events_per_chat", self.max_events_per_chat, 10),
            ("max_chat_bytes", self.max_chat_bytes, 16 << 10),
            ("max_user_data_keys", self.max_user_data_keys, 1),
            ("max_user_data_bytes", self.max_user_data_bytes, 1024),
            ("max_response_bytes", self.max_response_bytes, 16 << 10),
            ("max_attributes_bytes", self.max_attributes_bytes, 256),
        ] {
            ensure!(v >= min, "{at}.{key} must be at least {min}");
        }
        ensure!(
            (1..=MAX_DEPTH).contains(&self.max_attributes_depth),
            "{at}.max_attributes_depth must be between 1 and {MAX_DEPTH}"
        );
        Ok(ServiceLimits {
            max_events_per_chat: self.max_events_per_chat,
            max_chat_bytes: self.max_chat_bytes,
            max_user_data_keys: self.max_user_data_keys,
            max_user_data_bytes: self.max_user_data_bytes,
            max_response_bytes: self.max_response_bytes,
            max_attributes_bytes: self.max_attributes_bytes,
            max_attributes_depth: self.max_attributes_depth,
            create_per_ip: self
                .new_chats_per_ip
                .rate(&format!("{at}.new_chats_per_ip"))?,
            create_per_service: self.new_chats.rate(&format!("{at}.new_chats"))?,
            ops_per_ip: self
                .requests_per_ip
                .rate(&format!("{at}.requests_per_ip"))?,
            ops_per_service: self.requests.rate(&format!("{at}.requests"))?,
            abandon_after_ms: (self.abandon_after_secs > 0).then(|| {
                i64::try_from(self.abandon_after_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
            }),
        })
    }
}
