//! Local stand-ins for the push providers we cannot run: a fake FCM (OAuth2 token endpoint
//! and `messages:send`, HTTP/1.1) and a fake APNs (the provider API over HTTP/2 without
//! TLS). Both check what a real provider checks — the signed JWTs against the public key,
//! the bearer token, the headers — record every request, and answer per device token with
//! the error each scenario needs.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use crate::common::R;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// PKCS#8 DER as PEM.
fn pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// A fresh RSA key: (private PEM, public PKCS#1 DER).
pub fn rsa_key() -> (String, Vec<u8>) {
    let k = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&k).unwrap();
    (pem(der.as_ref()), k.public_key().as_ref().to_vec())
}

/// A fresh P-256 key: (private PEM, public point).
pub fn ec_key() -> (String, Vec<u8>) {
    let k = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let doc = k.to_pkcs8v1().unwrap();
    (pem(doc.as_ref()), k.public_key().as_ref().to_vec())
}

/// Verifies a compact JWT's signature; returns (header, claims).
pub fn verify_jwt(
    jwt: &str,
    alg: &'static dyn signature::VerificationAlgorithm,
    public: &[u8],
) -> Option<(Value, Value)> {
    let mut parts = jwt.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    let sig = URL_SAFE_NO_PAD.decode(s).ok()?;
    UnparsedPublicKey::new(alg, public)
        .verify(format!("{h}.{p}").as_bytes(), &sig)
        .ok()?;
    let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()?;
    Some((header, claims))
}

/// One request a fake got.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Request path.
    pub path: String,
    /// Headers.
    pub headers: HeaderMap,
    /// JSON body.
    pub body: Value,
    /// The device token it was for.
    pub device: String,
    /// Status answered.
    pub status: u16,
    /// HTTP version.
    pub version: Version,
    /// When it arrived.
    pub at: std::time::Instant,
}

/// Per-device scripted answers: each request for the device pops the next; an empty
/// script answers success.
type Script = HashMap<String, Vec<(u16, Value, Option<u64>)>>;

#[derive(Default)]
struct FakeState {
    hits: Mutex<Vec<Hit>>,
    script: Mutex<Script>,
    /// Token endpoint: accounts (client_email → RSA public key), grants seen, tokens issued.
    accounts: Mutex<HashMap<String, Vec<u8>>>,
    grants: Mutex<Vec<(Value, Value)>>,
    tokens: Mutex<Vec<String>>,
    bad_grants: Mutex<Vec<String>>,
    /// Access tokens that were revoked (answer 401).
    revoked: Mutex<Vec<String>>,
    /// APNs: the provider key, and bearer tokens seen.
    apns_key: Mutex<Vec<u8>>,
}

/// A fake provider (FCM or APNs).
#[derive(Clone, Default)]
pub struct Fake(Arc<FakeState>);

impl Fake {
    /// Every request for devices, in arrival order.
    pub fn hits(&self) -> Vec<Hit> {
        self.0.hits.lock().unwrap().clone()
    }

    /// Requests for `device`.
    pub fn hits_for(&self, device: &str) -> Vec<Hit> {
        self.hits()
            .into_iter()
            .filter(|h| h.device == device)
            .collect()
    }

    /// Scripts the next answers for `device`: (status, JSON body, Retry-After seconds).
    pub fn script(&self, device: &str, answers: Vec<(u16, Value, Option<u64>)>) {
        self.0
            .script
            .lock()
            .unwrap()
            .insert(device.to_owned(), answers);
    }

    /// FCM: accepts grants signed by `email`'s key.
    pub fn add_account(&self, email: &str, public: Vec<u8>) {
        self.0
            .accounts
            .lock()
            .unwrap()
            .insert(email.to_owned(), public);
    }

    /// FCM: the access tokens issued so far.
    pub fn tokens(&self) -> Vec<String> {
        self.0.tokens.lock().unwrap().clone()
    }

    /// FCM: the verified grants (header, claims).
    pub fn grants(&self) -> Vec<(Value, Value)> {
        self.0.grants.lock().unwrap().clone()
    }

    /// FCM: grants that failed verification, with why.
    pub fn bad_grants(&self) -> Vec<String> {
        self.0.bad_grants.lock().unwrap().clone()
    }

    /// FCM: the next request with the newest token gets 401 (the token was revoked).
    pub fn revoke_current_token(&self) {
        if let Some(t) = self.tokens().last() {
            self.0.revoked.lock().unwrap().push(t.clone());
        }
    }

    fn answer(&self, device: &str) -> (u16, Value, Option<u64>) {
        let mut s = self.0.script.lock().unwrap();
        match s.get_mut(device) {
            Some(list) if !list.is_empty() => list.remove(0),
            _ => (200, json!({}), None),
        }
    }

    fn record(&self, hit: Hit) {
        self.0.hits.lock().unwrap().push(hit);
    }

    async fn serve(app: axum::Router) -> R<String> {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", l.local_addr()?);
        tokio::spawn(async move { axum::serve(l, app).await });
        Ok(base)
    }

    /// A fake FCM; returns its base URL (token endpoint at `/token`). Accounts are added
    /// with [`Self::add_account`].
    pub async fn fcm() -> R<(Self, String)> {
        let f = Fake::default();
        let app = axum::Router::new()
            .route("/token", axum::routing::post(fcm_token))
            .route(
                "/v1/projects/{project}/{action}",
                axum::routing::post(fcm_send),
            )
            .with_state(f.clone());
        let base = Self::serve(app).await?;
        Ok((f, base))
    }

    /// A fake APNs checking tokens against `key` (the P-256 public point).
    pub async fn apns(key: Vec<u8>) -> R<(Self, String)> {
        let f = Fake::default();
        *f.0.apns_key.lock().unwrap() = key;
        let app = axum::Router::new()
            .route("/3/device/{token}", axum::routing::post(apns_send))
            .route("/sandbox/3/device/{token}", axum::routing::post(apns_send))
            .with_state(f.clone());
        let base = Self::serve(app).await?;
        Ok((f, base))
    }
}

async fn fcm_token(
    State(f): State<Fake>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let assertion = form.get("assertion").cloned().unwrap_or_default();
    let grant_ok = form.get("grant_type").map(String::as_str)
        == Some("urn:ietf:params:oauth:grant-type:jwt-bearer");
    // Find the account by the unverified iss, then verify against its key.
    let iss = assertion
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|c| c["iss"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let key = f.0.accounts.lock().unwrap().get(&iss).cloned();
    let verified =
        key.and_then(|k| verify_jwt(&assertion, &signature::RSA_PKCS1_2048_8192_SHA256, &k));
    let Some((header, claims)) = verified.filter(|_| grant_ok) else {
        f.0.bad_grants.lock().unwrap().push(assertion);
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    };
    f.0.grants.lock().unwrap().push((header, claims));
    let token = {
        let mut t = f.0.tokens.lock().unwrap();
        let token = format!("ya29.fake-{}-{}", iss.len(), t.len() + 1);
        t.push(token.clone());
        token
    };
    axum::Json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}))
        .into_response()
}

async fn fcm_send(
    State(f): State<Fake>,
    Path((project, action)): Path<(String, String)>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let version = req.version();
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let device = body["message"]["token"].as_str().unwrap_or("").to_owned();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned();
    let known = f.0.tokens.lock().unwrap().contains(&bearer);
    let revoked = {
        let mut r = f.0.revoked.lock().unwrap();
        let hit = r.contains(&bearer);
        r.retain(|t| *t != bearer);
        hit
    };
    let (status, answer, after) = if action != "messages:send" {
        (404, json!({}), None)
    } else if !known || revoked {
        (
            401,
            json!({"error": {"code": 401, "status": "UNAUTHENTICATED"}}),
            None,
        )
    } else {
        f.answer(&device)
    };
    f.record(Hit {
        path: format!("/v1/projects/{project}/{action}"),
        headers,
        body,
        device,
        status,
        version,
        at: std::time::Instant::now(),
    });
    reply(status, answer, after)
}

fn reply(status: u16, answer: Value, after: Option<u64>) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap(),
        axum::Json(if status == 200 && answer == json!({}) {
            json!({"name": "projects/p/messages/1"})
        } else {
            answer
        }),
    )
        .into_response();
    if let Some(s) = after {
        resp.headers_mut()
            .insert("retry-after", s.to_string().parse().unwrap());
    }
    resp
}

async fn apns_send(State(f): State<Fake>, Path(device): Path<String>, req: Request) -> Response {
    let version = req.version();
    let path = req.uri().path().to_owned();
    let headers = req.headers().clone();
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let key = f.0.apns_key.lock().unwrap().clone();
    let jwt = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bearer "))
        .unwrap_or("");
    let token_ok = verify_jwt(jwt, &signature::ECDSA_P256_SHA256_FIXED, &key).is_some();
    let (status, answer, after) = if !token_ok {
        (403, json!({"reason": "InvalidProviderToken"}), None)
    } else {
        f.answer(&device)
    };
    f.record(Hit {
        path,
        headers,
        body,
        device,
        status,
        version,
        at: std::time::Instant::now(),
    });
    if status == 200 {
        return StatusCode::OK.into_response();
    }
    reply(status, answer, after)
}
