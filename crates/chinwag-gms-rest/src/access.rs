//! Per-service access rules: optional `apikey` header, optional HTTP basic auth, the
//! browser origins allowed to call the service (the one CORS policy of `chinwag-http`,
//! shared with CometD and file transfer), and the largest file an upload may bring (to refuse
//! a body announced larger before reading it).

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use base64::Engine;
use chinwag_http::Origins;
use subtle::ConstantTimeEq;

/// Access settings of one service.
#[derive(Debug, Clone)]
pub struct ServiceAccess {
    /// Required value of the `apikey` request header.
    pub apikey: Option<String>,
    /// Required HTTP basic credentials `(user, password)`.
    pub basic_auth: Option<(String, String)>,
    /// Browser origins allowed to call the service.
    pub origins: Origins,
    /// Answer a refresh of an ended chat with HTTP 400 (GMS `_chat_400_response_on_disconnected`).
    pub chat_400_response_on_disconnected: bool,
    /// `upload-max-file-size` of the service, in bytes: an upload request whose
    /// `Content-Length` exceeds it (plus the form's own fields) is refused unread.
    pub upload_max_file_size: u64,
}

impl Default for ServiceAccess {
    fn default() -> Self {
        Self {
            apikey: None,
            basic_auth: None,
            origins: Origins::default(),
            chat_400_response_on_disconnected: false,
            upload_max_file_size: chinwag_core::files::FileSettings::default().max_file_size,
        }
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The `Origin` and `Host` of a request, as the origin policy reads them.
pub(crate) fn origin_and_host(headers: &HeaderMap) -> (Option<&str>, Option<&str>) {
    let get = |h: HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    (get(header::ORIGIN), get(header::HOST))
}

/// The CORS headers `origins` gives a request with `headers` (always `Vary: Origin`).
pub(crate) fn cors(origins: &Origins, headers: &HeaderMap, preflight: bool) -> HeaderMap {
    let (origin, host) = origin_and_host(headers);
    let methods = preflight.then_some("POST, OPTIONS");
    origins.headers(origin, host, methods).into_iter().collect()
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

    /// Whether a request with these headers comes from an origin the service allows (or
    /// from no browser origin at all).
    pub fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let (origin, host) = origin_and_host(headers);
        self.origins.allows(origin, host)
    }
}

/// `Retry-After` for a rate-limited answer.
pub(crate) fn retry_after(secs: u64) -> (HeaderName, HeaderValue) {
    (header::RETRY_AFTER, HeaderValue::from(secs.max(1)))
}
