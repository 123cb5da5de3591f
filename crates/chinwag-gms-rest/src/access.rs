//! Per-service access rules: optional `apikey` header, optional HTTP basic auth, and the
//! browser origins allowed to call the service cross-site (CORS).

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use subtle::ConstantTimeEq;

/// Access settings of one service.
#[derive(Debug, Clone, Default)]
pub struct ServiceAccess {
    /// Required value of the `apikey` request header.
    pub apikey: Option<String>,
    /// Required HTTP basic credentials `(user, password)`.
    pub basic_auth: Option<(String, String)>,
    /// Allowed `Origin`s; `"*"` allows any origin (without credentials).
    pub cors_origins: Vec<String>,
    /// Answer a refresh of an ended chat with HTTP 400 (GMS `_chat_400_response_on_disconnected`).
    pub chat_400_response_on_disconnected: bool,
}

fn eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

impl ServiceAccess {
    /// Whether the request carries the credentials the service requires.
    pub fn authorized(&self, headers: &HeaderMap) -> bool {
        if let Some(key) = &self.apikey {
            let given = headers
                .get("apikey")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !eq(given, key) {
                return false;
            }
        }
        if let Some((user, pass)) = &self.basic_auth {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.strip_prefix("Basic ")
                        .or_else(|| v.strip_prefix("basic "))
                })
                .and_then(|b| {
                    base64::engine::general_purpose::STANDARD
                        .decode(b.trim())
                        .ok()
                })
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            if !eq(&given, &format!("{user}:{pass}")) {
                return false;
            }
        }
        true
    }

    /// CORS headers for a request from `origin`, if that origin is allowed.
    pub fn cors_headers(&self, origin: Option<&HeaderValue>, preflight: bool) -> HeaderMap {
        let mut out = HeaderMap::new();
        let Some(origin) = origin else { return out };
        let any = self.cors_origins.iter().any(|o| o == "*");
        let listed = origin
            .to_str()
            .is_ok_and(|o| self.cors_origins.iter().any(|a| a == o));
        if !(any || listed) {
            return out;
        }
        if listed {
            out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            out.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        } else {
            out.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
        out.insert(header::VARY, HeaderValue::from_static("Origin"));
        if preflight {
            out.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST, OPTIONS"),
            );
            out.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("apikey, authorization, content-type, x-requested-with"),
            );
            out.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        out
    }
}
