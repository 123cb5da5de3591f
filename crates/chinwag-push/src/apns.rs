//! The APNs provider: Apple's HTTP/2 provider API with token authentication. A provider
//! JWT (ES256, `kid` = key id, `iss` = team id) is reused for 40 minutes (Apple refuses
//! tokens older than an hour and too-frequent renewals); each push is one
//! `POST {url}/3/device/{token}` with `apns-topic` and `apns-push-type`. Debug sessions go
//! to the sandbox host. (GMS spoke the legacy binary protocol, which Apple switched off on
//! 31 March 2021.)
//!
//! Answers: 200 delivered; 410 `Unregistered` and 400 `BadDeviceToken` /
//! `DeviceTokenNotForTopic` drop the device; 403 `ExpiredProviderToken` /
//! `InvalidProviderToken` sign a new token and try once more; other 4xx are refused for
//! good; 429 and 5xx are retried, honouring `Retry-After`.

use crate::body::Note;
use crate::error::PushError;
use crate::outcome::{self, Outcome};
use crate::token::TokenCache;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

/// Production host.
pub const URL: &str = "https://api.push.apple.com";
/// Development (sandbox) host.
pub const SANDBOX_URL: &str = "https://api.sandbox.push.apple.com";
/// Apple's payload limit for alert notifications.
pub const MAX_PAYLOAD: usize = 4096;
/// How long one provider token is used.
const TOKEN_LIFE: Duration = Duration::from_secs(40 * 60);

/// One APNs channel.
#[derive(Clone)]
pub struct ApnsConfig {
    /// The `.p8` signing key.
    pub key: EncodingKey,
    /// Its key id (`kid`).
    pub key_id: String,
    /// The team id (`iss`).
    pub team_id: String,
    /// `apns-topic`: the app's bundle id.
    pub topic: String,
    /// Production API base.
    pub url: String,
    /// API base for debug sessions.
    pub sandbox_url: String,
}

impl std::fmt::Debug for ApnsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsConfig")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .field("topic", &self.topic)
            .field("url", &self.url)
            .field("sandbox_url", &self.sandbox_url)
            .finish_non_exhaustive()
    }
}

/// Reads a `.p8` key (PKCS#8 PEM, P-256).
pub fn key_from_pem(pem: &str) -> Result<EncodingKey, PushError> {
    crate::error::init_crypto();
    EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| PushError::Key {
        what: "APNs key".into(),
        why: e.to_string(),
    })
}

/// The APNs sender, with its cached provider token.
#[derive(Debug)]
pub struct Apns {
    cfg: ApnsConfig,
    tokens: TokenCache,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    iat: u64,
}

/// The JSON payload: `aps.alert` with the title and body, the event type and position, and
/// the GMS message when the session gets one and it fits in Apple's 4 KB.
pub fn payload(note: &Note) -> Vec<u8> {
    let mut p = json!({
        "aps": {"alert": {"title": note.title, "body": note.body}, "sound": "default"},
        "event": note.event,
        "index": note.index,
    });
    if let Some(m) = &note.message {
        p["message"] = m.clone();
    }
    let bytes = p.to_string().into_bytes();
    if bytes.len() <= MAX_PAYLOAD || note.message.is_none() {
        return bytes;
    }
    if let Some(o) = p.as_object_mut() {
        o.remove("message");
    }
    p.to_string().into_bytes()
}

impl Apns {
    /// A sender for `cfg`.
    pub fn new(cfg: ApnsConfig) -> Self {
        Self {
            cfg,
            tokens: TokenCache::default(),
        }
    }

    /// Provider tokens signed so far.
    pub fn token_fetches(&self) -> u64 {
        self.tokens.fetches()
    }

    fn sign(&self) -> Result<(String, Duration), Outcome> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.cfg.key_id.clone());
        let iat = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            iss: &self.cfg.team_id,
            iat,
        };
        jsonwebtoken::encode(&header, &claims, &self.cfg.key)
            .map(|t| (t, TOKEN_LIFE))
            .map_err(|e| Outcome::Rejected(format!("APNs token signing: {e}")))
    }

    /// Sends one notification to `device` (a device token), over `client` (HTTP/2).
    pub async fn send(
        &self,
        client: &reqwest::Client,
        debug: bool,
        device: &str,
        note: &Note,
    ) -> Outcome {
        let base = if debug {
            &self.cfg.sandbox_url
        } else {
            &self.cfg.url
        };
        let url = format!("{}/3/device/{device}", base.trim_end_matches('/'));
        let body = payload(note);
        for fresh_token_tried in [false, true] {
            let token = match self.tokens.get(|| async { self.sign() }).await {
                Ok(t) => t,
                Err(o) => return o,
            };
            let resp = client
                .post(&url)
                .header(reqwest::header::AUTHORIZATION, format!("bearer {token}"))
                .header("apns-topic", &self.cfg.topic)
                .header("apns-push-type", "alert")
                .header("apns-priority", "10")
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let resp = match resp {
                Ok(r) => r,
                Err(e) => {
                    return Outcome::Retry {
                        reason: format!("APNs: {e}"),
                        after: None,
                    };
                }
            };
            let status = resp.status().as_u16();
            if status == 200 {
                return Outcome::Delivered;
            }
            let after = outcome::retry_after_of(&resp);
            let answer: Value = resp.json().await.unwrap_or(Value::Null);
            let reason = answer["reason"].as_str().unwrap_or("").to_owned();
            if status == 403
                && matches!(
                    reason.as_str(),
                    "ExpiredProviderToken" | "InvalidProviderToken"
                )
                && !fresh_token_tried
            {
                self.tokens.invalidate(&token).await;
                continue;
            }
            return classify(status, &reason, after);
        }
        Outcome::Retry {
            reason: "APNs: provider token refused twice".into(),
            after: None,
        }
    }
}

/// An APNs error answer, by status and `reason`.
fn classify(status: u16, reason: &str, after: Option<Duration>) -> Outcome {
    let text = format!("APNs: HTTP {status} {reason}");
    match (status, reason) {
        (410, _) | (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => {
            Outcome::Unregistered(text)
        }
        (429 | 500..=599, _) | (403, "ExpiredProviderToken" | "InvalidProviderToken") => {
            Outcome::Retry {
                reason: text,
                after,
            }
        }
        _ => Outcome::Rejected(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_are_classified() {
        assert!(matches!(
            classify(410, "Unregistered", None),
            Outcome::Unregistered(_)
        ));
        assert!(matches!(
            classify(400, "BadDeviceToken", None),
            Outcome::Unregistered(_)
        ));
        assert!(matches!(
            classify(400, "BadCollapseId", None),
            Outcome::Rejected(_)
        ));
        assert!(matches!(
            classify(413, "PayloadTooLarge", None),
            Outcome::Rejected(_)
        ));
        assert!(matches!(
            classify(429, "TooManyRequests", None),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            classify(503, "ServiceUnavailable", None),
            Outcome::Retry { .. }
        ));
    }

    #[test]
    fn a_bad_key_is_refused_at_start() {
        let e = key_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assert!(e.is_err_and(|e| e.to_string().contains("APNs key")));
    }

    #[test]
    fn an_oversized_message_is_left_out() {
        let mut note = Note {
            title: "t".into(),
            body: "b".into(),
            event: "Message",
            index: 4,
            message: Some(json!({"text": "x".repeat(5000)})),
        };
        let p: Value = serde_json::from_slice(&payload(&note)).unwrap_or_default();
        assert_eq!(p["aps"]["alert"]["title"], "t");
        assert!(p.get("message").is_none());
        note.message = Some(json!({"text": "short"}));
        let p: Value = serde_json::from_slice(&payload(&note)).unwrap_or_default();
        assert_eq!(p["message"]["text"], "short");
        assert_eq!(p["index"], 4);
    }
}
