//! The FCM HTTP v1 provider: a Google service account signs an RS256 JWT-bearer grant,
//! which the token endpoint (the key's `token_uri`, or a configured one) trades for an
//! OAuth2 access token, cached until shortly before it expires; each push is one
//! `POST {api}/v1/projects/{project}/messages:send`.
//!
//! Answers: 2xx delivered; `UNREGISTERED` (404) drops the device; 401 fetches a new token
//! and tries once more; other 400/403 are refused for good; 429 and 5xx are retried,
//! honouring `Retry-After`.

use crate::body::Note;
use crate::error::PushError;
use crate::outcome::{self, Outcome};
use crate::token::TokenCache;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// The OAuth2 scope for sending.
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// The JWT-bearer grant type.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Largest GMS message carried in `data` (bytes), leaving room for the rest under FCM's
/// 4 KB limit.
const MAX_DATA_MESSAGE: usize = 3000;
/// The public API base.
pub const API_URL: &str = "https://fcm.googleapis.com";

/// A service account, from the JSON key file Google hands out.
#[derive(Clone)]
pub struct FcmAccount {
    /// Firebase project.
    pub project_id: String,
    /// `iss` of the grant.
    pub client_email: String,
    /// `kid` of the grant.
    pub key_id: Option<String>,
    /// Where to trade the grant for a token.
    pub token_uri: String,
    key: EncodingKey,
}

impl std::fmt::Debug for FcmAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmAccount")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct KeyFile {
    project_id: String,
    client_email: String,
    private_key: String,
    private_key_id: Option<String>,
    token_uri: Option<String>,
}

impl FcmAccount {
    /// Reads a service-account key file's JSON.
    pub fn from_json(json: &str) -> Result<Self, PushError> {
        let k: KeyFile =
            serde_json::from_str(json).map_err(|e| PushError::ServiceAccount(e.to_string()))?;
        crate::error::init_crypto();
        let key =
            EncodingKey::from_rsa_pem(k.private_key.as_bytes()).map_err(|e| PushError::Key {
                what: "FCM service account private_key".into(),
                why: e.to_string(),
            })?;
        Ok(Self {
            project_id: k.project_id,
            client_email: k.client_email,
            key_id: k.private_key_id,
            token_uri: k
                .token_uri
                .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into()),
            key,
        })
    }
}

/// One FCM channel: its account, a debug account (`push_notification_debug`), endpoints.
#[derive(Debug, Clone)]
pub struct FcmConfig {
    /// The account.
    pub account: FcmAccount,
    /// The account for debug sessions (falls back to `account`).
    pub debug: Option<FcmAccount>,
    /// API base (`https://fcm.googleapis.com`).
    pub api_url: String,
    /// Overrides every account's `token_uri`.
    pub token_url: Option<String>,
}

/// The FCM sender, with its cached tokens.
#[derive(Debug)]
pub struct Fcm {
    cfg: FcmConfig,
    tokens: TokenCache,
    debug_tokens: TokenCache,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn retry(reason: String) -> Outcome {
    Outcome::Retry {
        reason,
        after: None,
    }
}

/// The `messages:send` body for `device`.
pub fn message_body(device: &str, note: &Note) -> Value {
    let mut data = serde_json::Map::new();
    data.insert("event".into(), note.event.into());
    data.insert("index".into(), note.index.to_string().into());
    // FCM refuses messages over 4 KB: a payload that does not fit is left out (the app
    // fetches instead).
    if let Some(m) = note.message.as_ref().map(Value::to_string)
        && m.len() <= MAX_DATA_MESSAGE
    {
        data.insert("message".into(), m.into());
    }
    json!({"message": {
        "token": device,
        "notification": {"title": note.title, "body": note.body},
        "data": data,
    }})
}

impl Fcm {
    /// A sender for `cfg`.
    pub fn new(cfg: FcmConfig) -> Self {
        Self {
            cfg,
            tokens: TokenCache::default(),
            debug_tokens: TokenCache::default(),
        }
    }

    /// Access tokens fetched so far (both accounts).
    pub fn token_fetches(&self) -> u64 {
        self.tokens.fetches() + self.debug_tokens.fetches()
    }

    fn account(&self, debug: bool) -> (&FcmAccount, &TokenCache) {
        match (&self.cfg.debug, debug) {
            (Some(d), true) => (d, &self.debug_tokens),
            _ => (&self.cfg.account, &self.tokens),
        }
    }

    async fn fetch_token(
        &self,
        client: &reqwest::Client,
        account: &FcmAccount,
    ) -> Result<(String, Duration), Outcome> {
        let url = self.cfg.token_url.as_deref().unwrap_or(&account.token_uri);
        let iat = unix_now();
        let claims = Claims {
            iss: &account.client_email,
            scope: SCOPE,
            aud: &account.token_uri,
            iat,
            exp: iat + 3600,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid.clone_from(&account.key_id);
        let jwt = jsonwebtoken::encode(&header, &claims, &account.key)
            .map_err(|e| Outcome::Rejected(format!("FCM grant signing: {e}")))?;
        let form = [("grant_type", GRANT_TYPE), ("assertion", jwt.as_str())];
        let resp = client
            .post(url)
            .form(&form)
            .send()
            .await
            .map_err(|e| retry(format!("FCM token endpoint: {e}")))?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            tracing::error!(%status, body = %text, "FCM token endpoint refused the grant");
            return Err(retry(format!("FCM token endpoint: HTTP {status}")));
        }
        let answer: TokenAnswer = resp
            .json()
            .await
            .map_err(|e| retry(format!("FCM token endpoint: {e}")))?;
        // Keep it until five minutes before it expires (at least one minute).
        let keep = answer
            .expires_in
            .unwrap_or(3600)
            .saturating_sub(300)
            .max(60);
        Ok((answer.access_token, Duration::from_secs(keep)))
    }

    /// Sends one notification to `device` (a registration token).
    pub async fn send(
        &self,
        client: &reqwest::Client,
        debug: bool,
        device: &str,
        note: &Note,
    ) -> Outcome {
        let (account, cache) = self.account(debug);
        let url = format!(
            "{}/v1/projects/{}/messages:send",
            self.cfg.api_url.trim_end_matches('/'),
            account.project_id
        );
        let body = message_body(device, note);
        for fresh_token_tried in [false, true] {
            let token = match cache.get(|| self.fetch_token(client, account)).await {
                Ok(t) => t,
                Err(o) => return o,
            };
            let resp = match client
                .post(&url)
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => return retry(format!("FCM: {e}")),
            };
            let status = resp.status().as_u16();
            let after = outcome::retry_after_of(&resp);
            if status == 401 && !fresh_token_tried {
                cache.invalidate(&token).await;
                continue;
            }
            if (200..300).contains(&status) {
                return Outcome::Delivered;
            }
            let text = resp.text().await.unwrap_or_default();
            return classify(status, &text, after);
        }
        retry("FCM: HTTP 401 with a fresh token".into())
    }
}

/// An FCM error answer, by status and `error.details[].errorCode`.
fn classify(status: u16, body: &str, after: Option<Duration>) -> Outcome {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = v["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|d| d["errorCode"].as_str())
        .or_else(|| v["error"]["status"].as_str())
        .unwrap_or("");
    let reason = format!("FCM: HTTP {status} {code}");
    match (status, code) {
        (_, "UNREGISTERED") | (404, _) => Outcome::Unregistered(reason),
        (429 | 500..=599, _) | (_, "QUOTA_EXCEEDED" | "UNAVAILABLE" | "INTERNAL") => {
            Outcome::Retry { reason, after }
        }
        _ => Outcome::Rejected(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_are_classified() {
        let unreg = r#"{"error":{"code":404,"status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#;
        assert!(matches!(
            classify(404, unreg, None),
            Outcome::Unregistered(_)
        ));
        let bad = r#"{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"errorCode":"INVALID_ARGUMENT"}]}}"#;
        assert!(matches!(classify(400, bad, None), Outcome::Rejected(_)));
        let after = Some(Duration::from_secs(3));
        assert_eq!(
            classify(429, "{}", after),
            Outcome::Retry {
                reason: "FCM: HTTP 429 ".into(),
                after
            }
        );
        assert!(matches!(classify(503, "", None), Outcome::Retry { .. }));
        assert!(matches!(classify(403, "{}", None), Outcome::Rejected(_)));
    }

    #[test]
    fn a_bad_key_file_is_refused_at_start() {
        assert!(FcmAccount::from_json("{}").is_err());
        let bad_key = r#"{"project_id":"p","client_email":"e","private_key":"nope"}"#;
        let e = FcmAccount::from_json(bad_key);
        assert!(e.is_err_and(|e| e.to_string().contains("private_key")));
    }

    #[test]
    fn data_values_are_strings() {
        let note = Note {
            title: "t".into(),
            body: "b".into(),
            event: "Message",
            index: 7,
            message: Some(json!({"statusCode": 0})),
        };
        let b = message_body("tok", &note);
        assert_eq!(b["message"]["token"], "tok");
        assert_eq!(b["message"]["data"]["index"], "7");
        assert_eq!(b["message"]["data"]["message"], r#"{"statusCode":0}"#);
        let big = Note {
            message: Some(json!({"text": "x".repeat(4000)})),
            ..note.clone()
        };
        assert!(
            message_body("tok", &big)["message"]["data"]
                .get("message")
                .is_none()
        );
        assert!(
            b["message"]["data"]
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string))
        );
    }
}
