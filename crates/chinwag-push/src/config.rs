//! Delivery settings (`[push]` of the configuration file; the engine's own part —
//! enabled channels, on-join, timeout, shutdown notice — is in `chinwag_core::push`).

use crate::apns::ApnsConfig;
use crate::fcm::FcmConfig;
use crate::template::Templates;
use std::collections::HashMap;
use std::time::Duration;

/// Tokens a reliable push carries in `userData` (`flex-push-content`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// `app-dbid`: the node alias.
    AppDbid,
    /// `secure-key`: the REST secure key.
    SecureKey,
    /// `session-id`: the chat id.
    SessionId,
    /// `user-id`: the user id.
    UserId,
}

impl Content {
    /// Parses an option value item (`app-dbid`, `secure-key`, `session-id`, `user-id`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "app-dbid" => Some(Self::AppDbid),
            "secure-key" => Some(Self::SecureKey),
            "session-id" => Some(Self::SessionId),
            "user-id" => Some(Self::UserId),
            _ => None,
        }
    }
}

/// The customhttp channel.
#[derive(Debug, Clone, Default)]
pub struct CustomHttpConfig {
    /// Where to POST.
    pub url: String,
    /// `customhttp.message`: replaces the pushed content when set.
    pub message: Option<String>,
    /// Beyond GMS: sign each body with HMAC-SHA256 under this secret.
    pub hmac_secret: Option<String>,
}

/// Retries after transport errors, 429 and 5xx.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all before a push is dropped (reliable pushes then follow the resend
    /// schedule instead).
    pub max_tries: u32,
    /// First delay.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_tries: 8,
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
        }
    }
}

/// The channels of one provider section: the default (`[push]`) or a named one
/// (`[push.provider.<name>]`, chosen per session by `GCTI_GMS_PushProvider` /
/// `push_notification_provider`).
#[derive(Debug, Clone, Default)]
pub struct ProviderConfig {
    /// customhttp.
    pub customhttp: Option<CustomHttpConfig>,
    /// FCM HTTP v1.
    pub fcm: Option<FcmConfig>,
    /// APNs.
    pub ios: Option<ApnsConfig>,
    /// Title/body overrides per event type.
    pub templates: Templates,
}

/// Everything the delivery side is configured with.
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// The default channels (`[push]`).
    pub default: ProviderConfig,
    /// Named provider sections: a channel they leave out falls back to the default's.
    pub providers: HashMap<String, ProviderConfig>,
    /// `push_notification_include_payload` for sessions that do not say.
    pub include_payload: bool,
    /// `push_notification_to_active_client`: no push while a CometD client is connected.
    pub to_active_client: bool,
    /// With `to_active_client`: how long after an event a chat watched over CometD is
    /// looked at again before its push is skipped. A client lost abruptly (no
    /// `/meta/disconnect`) still counts as watched until its Bayeux session expires, so this
    /// should be at least the CometD timeout + `maxInterval` + the sweep period: a chat no
    /// longer watched by then gets the push after all.
    pub presence_grace: Duration,
    /// `flex-push-resend-delay`.
    pub resend_delay: Duration,
    /// `flex-push-resend-attempts`.
    pub resend_attempts: u32,
    /// `flex-push-content`.
    pub content: Vec<Content>,
    /// Pushes in flight at once (over all devices).
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Transport retries.
    pub retry: RetryPolicy,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            default: ProviderConfig::default(),
            providers: HashMap::new(),
            include_payload: false,
            to_active_client: false,
            presence_grace: Duration::from_secs(40),
            resend_delay: Duration::from_secs(15),
            resend_attempts: 3,
            content: vec![Content::SessionId, Content::UserId],
            concurrency: 256,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}
