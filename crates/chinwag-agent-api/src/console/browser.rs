//! What a browser's request says about where it comes from: whether it reached us over
//! https, the origin it was sent to, the session cookie it carries, and the cross-site checks
//! every console request passes.
//!
//! Chinwag serves plain HTTP itself, so a request is https only when a trusted proxy
//! (`server.trusted_proxies`, the same list whose `X-Forwarded-For` is believed) says so
//! with `X-Forwarded-Proto: https`. From such a proxy, `X-Forwarded-Host` (when present)
//! also replaces `Host` as the host the browser addressed. From anyone else both headers
//! are ignored.
//!
//! The checks (for a cookie-authenticated request, and for the sign-in endpoints):
//! `Sec-Fetch-Site` must not be `cross-site` or `same-site`; an `Origin`, when sent, must be
//! the request's own (a WebSocket handshake must send one); every method but GET and HEAD
//! must carry `X-Chinwag-Csrf: 1`, which no form and no cross-origin script can send without
//! a CORS preflight this server never grants.

use crate::error::ApiError;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use chinwag_http::{Peer, TrustedProxies};

/// The session cookie's name over https (the `__Host-` prefix: Secure, Path=/, no Domain).
pub(crate) const SECURE_NAME: &str = "__Host-chinwag_session";
/// The session cookie's name over plain http.
pub(crate) const PLAIN_NAME: &str = "chinwag_session";
/// The header an unsafe cookie-authenticated request must carry, with the value `1`.
pub(crate) const CSRF_HEADER: &str = "x-chinwag-csrf";

/// Where a request comes from, as far as the console cares.
#[derive(Debug, Clone)]
pub(crate) struct Browser {
    /// It reached us over https (per a trusted proxy).
    pub(crate) https: bool,
    /// The host (and port) it was addressed to, lowercase.
    host: Option<String>,
}

fn first(headers: &HeaderMap, name: &str) -> Option<String> {
    let v = headers.get(name)?.to_str().ok()?;
    let v = v.split(',').next()?.trim();
    (!v.is_empty()).then(|| v.to_ascii_lowercase())
}

impl Browser {
    /// Reads `parts`, believing forwarded headers only from a `trusted` peer.
    pub(crate) fn of(parts: &Parts, trusted: &TrustedProxies) -> Self {
        let proxied = parts
            .extensions
            .get::<Peer>()
            .is_some_and(|p| trusted.contains(p.0.ip()));
        let https =
            proxied && first(&parts.headers, "x-forwarded-proto").is_some_and(|p| p == "https");
        let host = proxied
            .then(|| first(&parts.headers, "x-forwarded-host"))
            .flatten()
            .or_else(|| first(&parts.headers, header::HOST.as_str()))
            .or_else(|| {
                parts
                    .uri
                    .authority()
                    .map(|a| a.as_str().to_ascii_lowercase())
            });
        Self { https, host }
    }

    /// The session cookie's name for this request's scheme.
    pub(crate) fn cookie_name(&self) -> &'static str {
        if self.https { SECURE_NAME } else { PLAIN_NAME }
    }

    /// The value of this scheme's session cookie, if the request carries one.
    pub(crate) fn cookie<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        let name = self.cookie_name();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim())
    }

    /// `Set-Cookie` for a new session `value` (a session cookie: gone when the browser ends).
    pub(crate) fn set_cookie(&self, value: &str) -> HeaderValue {
        self.cookie_header(value, "")
    }

    /// `Set-Cookie` that clears the session cookie.
    pub(crate) fn clear_cookie(&self) -> HeaderValue {
        self.cookie_header("", "; Max-Age=0")
    }

    fn cookie_header(&self, value: &str, extra: &str) -> HeaderValue {
        let secure = if self.https { "; Secure" } else { "" };
        let text = format!(
            "{}={value}; HttpOnly; SameSite=Strict; Path=/{secure}{extra}",
            self.cookie_name()
        );
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Whether `origin` (an `Origin` header) is this request's own. Over plain http an
    /// `https://` origin with the same host also counts: a TLS proxy the server does not
    /// know about put it there, not another site.
    fn own_origin(&self, origin: &str) -> bool {
        let Some(host) = &self.host else { return false };
        let origin = origin.trim().to_ascii_lowercase();
        let (scheme, rest) = if let Some(r) = origin.strip_prefix("https://") {
            ("https", r)
        } else if let Some(r) = origin.strip_prefix("http://") {
            ("http", r)
        } else {
            return false;
        };
        if scheme == "http" && self.https {
            return false;
        }
        without_default_port(rest, scheme) == without_default_port(host, scheme)
    }

    /// The cross-site checks (see the module documentation); `websocket`: a handshake,
    /// which must send its `Origin`.
    pub(crate) fn check(&self, parts: &Parts, websocket: bool) -> Result<(), ApiError> {
        let h = &parts.headers;
        if let Some(site) = first(h, "sec-fetch-site")
            && (site == "cross-site" || site == "same-site")
        {
            return Err(ApiError::forbidden(format!(
                "a {site} request cannot use the console session"
            )));
        }
        match h.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("")) {
            Some(o) if !self.own_origin(o) => {
                return Err(ApiError::forbidden(
                    "the request's Origin is not this server's",
                ));
            }
            None if websocket => {
                return Err(ApiError::forbidden(
                    "a WebSocket with the console session must send its Origin",
                ));
            }
            _ => {}
        }
        if !matches!(parts.method, Method::GET | Method::HEAD)
            && h.get(CSRF_HEADER).is_none_or(|v| v.as_bytes() != b"1")
        {
            return Err(ApiError::forbidden(
                "a console request must carry the header X-Chinwag-Csrf: 1",
            ));
        }
        Ok(())
    }
}

/// `host[:port]` without the scheme's default port.
fn without_default_port<'a>(authority: &'a str, scheme: &str) -> &'a str {
    let default = if scheme == "https" { ":443" } else { ":80" };
    authority.strip_suffix(default).unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(method: &str, headers: &[(&str, &str)], peer: &str) -> Parts {
        let mut b = Request::builder().method(method).uri("/agent/v1/me");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (mut p, ()) = b.body(()).unwrap_or_default().into_parts();
        if let Ok(addr) = peer.parse() {
            p.extensions.insert(Peer(addr));
        }
        p
    }

    fn trusted() -> TrustedProxies {
        TrustedProxies::parse(&["10.0.0.1".to_owned()]).unwrap_or_default()
    }

    #[test]
    fn https_and_host_are_believed_only_from_a_trusted_proxy() {
        let h = [
            ("host", "internal:8080"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "chat.example"),
        ];
        let via_proxy = Browser::of(&parts("GET", &h, "10.0.0.1:5000"), &trusted());
        assert!(via_proxy.https);
        assert_eq!(via_proxy.cookie_name(), SECURE_NAME);
        assert!(via_proxy.own_origin("https://chat.example"));
        assert!(via_proxy.own_origin("https://chat.example:443"));
        assert!(!via_proxy.own_origin("http://chat.example"), "downgraded");
        let direct = Browser::of(&parts("GET", &h, "192.0.2.7:5000"), &trusted());
        assert!(!direct.https);
        assert!(direct.own_origin("http://internal:8080"));
        assert!(
            direct.own_origin("https://internal:8080"),
            "an unknown TLS proxy"
        );
        assert!(!direct.own_origin("http://chat.example"));
        assert!(!direct.own_origin("null"));
    }

    #[test]
    fn the_cookie_header_has_every_attribute() {
        let b = Browser::of(&parts("GET", &[("host", "h")], "10.0.0.1:1"), &trusted());
        assert_eq!(
            b.set_cookie("ab"),
            "chinwag_session=ab; HttpOnly; SameSite=Strict; Path=/"
        );
        let h = [("host", "h"), ("x-forwarded-proto", "https")];
        let s = Browser::of(&parts("GET", &h, "10.0.0.1:1"), &trusted());
        assert_eq!(
            s.clear_cookie(),
            "__Host-chinwag_session=; HttpOnly; SameSite=Strict; Path=/; Secure; Max-Age=0"
        );
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let p = parts(
            "GET",
            &[("cookie", "a=1; chinwag_session=xyz ; b=2")],
            "192.0.2.7:1",
        );
        let b = Browser::of(&p, &trusted());
        assert_eq!(b.cookie(&p.headers), Some("xyz"));
    }
}
