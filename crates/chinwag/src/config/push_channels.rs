//! The channel sections of `[push]` and of each `[push.provider.<name>]`: `customhttp`,
//! `fcm`, `ios` and `templates.<Event>`, checked and turned into the worker's
//! [`ProviderConfig`]. Key files are read (and their keys parsed) at start, so a bad key
//! stops the server with a clear message instead of failing every push.

use anyhow::{Context, bail, ensure};
use chinwag_push::apns::{self, ApnsConfig};
use chinwag_push::fcm::{self, FcmAccount, FcmConfig};
use chinwag_push::template::{self, Template, Templates};
use chinwag_push::{CustomHttpConfig, ProviderConfig};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `customhttp`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomHttpSection {
    pub(crate) url: String,
    pub(crate) message: Option<String>,
    pub(crate) hmac_secret: Option<String>,
}

/// `fcm`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FcmSection {
    pub(crate) service_account_file: String,
    pub(crate) debug_service_account_file: Option<String>,
    pub(crate) api_url: Option<String>,
    pub(crate) token_url: Option<String>,
}

/// `ios`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IosSection {
    pub(crate) key_file: String,
    pub(crate) key_id: String,
    pub(crate) team_id: String,
    pub(crate) topic: String,
    pub(crate) url: Option<String>,
    pub(crate) sandbox_url: Option<String>,
}

/// `templates.<Event>`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateSection {
    pub(crate) title: Option<String>,
    pub(crate) body: Option<String>,
}

/// The channels of one section (`[push]` itself or `[push.provider.<name>]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelsSection {
    pub(crate) customhttp: Option<CustomHttpSection>,
    pub(crate) fcm: Option<FcmSection>,
    pub(crate) ios: Option<IosSection>,
    #[serde(default)]
    pub(crate) templates: BTreeMap<String, TemplateSection>,
}

fn http_url(name: &str, url: &str) -> anyhow::Result<String> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{name}: not a URL"))?;
    ensure!(
        matches!(parsed.scheme(), "http" | "https"),
        "{name} must be http or https"
    );
    Ok(url.trim_end_matches('/').to_owned())
}

fn account(name: &str, path: &str) -> anyhow::Result<FcmAccount> {
    let json =
        std::fs::read_to_string(path).with_context(|| format!("{name}: cannot read {path}"))?;
    FcmAccount::from_json(&json).with_context(|| format!("{name}: {path}"))
}

impl ChannelsSection {
    /// Checks the section (`at` is its name in messages).
    pub(crate) fn validate(&self, at: &str) -> anyhow::Result<ProviderConfig> {
        let customhttp = match &self.customhttp {
            None => None,
            Some(c) => Some(CustomHttpConfig {
                url: http_url(&format!("{at}.customhttp.url"), &c.url)?,
                message: c.message.clone(),
                hmac_secret: c.hmac_secret.clone().filter(|s| !s.is_empty()),
            }),
        };
        let fcm = match &self.fcm {
            None => None,
            Some(f) => Some(FcmConfig {
                account: account(
                    &format!("{at}.fcm.service_account_file"),
                    &f.service_account_file,
                )?,
                debug: f
                    .debug_service_account_file
                    .as_deref()
                    .map(|p| account(&format!("{at}.fcm.debug_service_account_file"), p))
                    .transpose()?,
                api_url: http_url(
                    &format!("{at}.fcm.api_url"),
                    f.api_url.as_deref().unwrap_or(fcm::API_URL),
                )?,
                token_url: f
                    .token_url
                    .as_deref()
                    .map(|u| http_url(&format!("{at}.fcm.token_url"), u))
                    .transpose()?,
            }),
        };
        let ios = match &self.ios {
            None => None,
            Some(i) => {
                let name = format!("{at}.ios.key_file");
                let pem = std::fs::read_to_string(&i.key_file)
                    .with_context(|| format!("{name}: cannot read {}", i.key_file))?;
                for (k, v) in [
                    ("key_id", &i.key_id),
                    ("team_id", &i.team_id),
                    ("topic", &i.topic),
                ] {
                    ensure!(!v.trim().is_empty(), "{at}.ios.{k} is required");
                }
                Some(ApnsConfig {
                    key: apns::key_from_pem(&pem).with_context(|| name.clone())?,
                    key_id: i.key_id.clone(),
                    team_id: i.team_id.clone(),
                    topic: i.topic.clone(),
                    url: http_url(
                        &format!("{at}.ios.url"),
                        i.url.as_deref().unwrap_or(apns::URL),
                    )?,
                    sandbox_url: http_url(
                        &format!("{at}.ios.sandbox_url"),
                        i.sandbox_url.as_deref().unwrap_or(apns::SANDBOX_URL),
                    )?,
                })
            }
        };
        let mut templates = Templates::new();
        for (event, t) in &self.templates {
            let Some(kind) = template::kind_by_name(event) else {
                bail!(
                    "{at}.templates.{event}: not a pushed event type (ParticipantJoined, \
                     ParticipantLeft, Message, PushUrl, FileUploaded, IdleAlert, IdleClose)"
                );
            };
            templates.insert(
                kind,
                Template {
                    title: t.title.clone(),
                    body: t.body.clone(),
                },
            );
        }
        Ok(ProviderConfig {
            customhttp,
            fcm,
            ios,
            templates,
        })
    }
}
