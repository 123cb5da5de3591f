//! What a request carries for the engine and the application besides its messages: the
//! client's address (behind trusted proxies), its `Origin` and the forwarded headers
//! ([`crate::config::BayeuxConfig::forward_headers`]), built from an axum request (the
//! router, WebSocket upgrades, JSONP) — the lean front builds the same from its own parse —
//! and the origin rule with its refusal.

use crate::config::Transport;
use crate::process::Request;
use crate::server::BayeuxServer;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use std::net::IpAddr;
use std::sync::Arc;

/// The reply to a request refused for its origin (not processed at all).
pub(crate) const ORIGIN_DENIED: &str = r#"[{"channel":"/meta/unknown","successful":false,"error":"403::origin_denied","advice":{"reconnect":"none"}}]"#;

/// Methods a preflight allows.
pub(crate) const PREFLIGHT_METHODS: &str = "GET, POST, OPTIONS";

/// Values of the forwarded headers a request carried, by their place in `forward_headers`
/// (the first value of each).
#[derive(Debug, Clone, Default)]
pub(crate) struct Forwarded(Vec<(usize, Box<str>)>);

impl Forwarded {
    /// Records `value` for the header at `index`, unless one is recorded already.
    pub(crate) fn add(&mut self, index: usize, value: &str) {
        if !self.0.iter().any(|(i, _)| *i == index) {
            self.0.push((index, value.trim().into()));
        }
    }

    /// Every recorded value with its header's place.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &str)> {
        self.0.iter().map(|(i, v)| (*i, &**v))
    }

    /// The value of the header at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        self.0.iter().find(|(i, _)| *i == index).map(|(_, v)| &**v)
    }
}

impl BayeuxServer {
    /// The place of the header `name` in `forward_headers`, if it is forwarded.
    pub(crate) fn forward_index(&self, name: &str) -> Option<usize> {
        self.config()
            .forward_headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }

    /// Whether a request from `origin` to `host` must be refused: an `Origin` that is neither
    /// this server's own nor allowed.
    pub(crate) fn origin_denied(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        !self.config().origins.allows(origin, host)
    }

    /// The CORS headers of an answer to a request from `origin` to `host` (`Vary: Origin`
    /// always); `preflight` for an `OPTIONS` preflight.
    pub(crate) fn cors(
        &self,
        origin: Option<&str>,
        host: Option<&str>,
        preflight: bool,
    ) -> Vec<(HeaderName, HeaderValue)> {
        self.config()
            .origins
            .headers(origin, host, preflight.then_some(PREFLIGHT_METHODS))
    }
}

/// A header's value as text, if it is text.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
}

/// The request context of an axum request from `peer` (the accept loop's
/// [`chinwag_http::Peer`]; `None` when served otherwise) whose origin is `origin`.
pub(crate) fn request_of(
    server: &BayeuxServer,
    transport: Transport,
    browser: Option<Arc<str>>,
    peer: Option<IpAddr>,
    origin: Option<&str>,
    headers: &HeaderMap,
) -> Request {
    let remote = peer.map(|ip| server.config().trusted_proxies.client_of(ip, headers));
    let mut forwarded = Forwarded::default();
    for (i, name) in server.config().forward_headers.iter().enumerate() {
        let value = headers
            .get(name.as_str())
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok());
        if let Some(v) = value {
            forwarded.add(i, v);
        }
    }
    Request {
        transport,
        browser,
        remote,
        origin: origin.map(Into::into),
        headers: forwarded,
        forwarded: false,
    }
}

/// The origin of a JSONP `GET`: its `Origin` if it has one, else that of its `Referer`.
pub(crate) fn jsonp_origin(headers: &HeaderMap) -> Option<&str> {
    header_str(headers, &header::ORIGIN).or_else(|| {
        header_str(headers, &header::REFERER).and_then(chinwag_http::cors::origin_of_url)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_value_of_each_forwarded_header_is_kept() {
        let mut f = Forwarded::default();
        f.add(1, " key ");
        f.add(1, "other");
        assert_eq!(f.get(1), Some("key"));
        assert_eq!(f.get(0), None);
    }

    #[test]
    fn jsonp_falls_back_to_the_referer() {
        let mut h = HeaderMap::new();
        h.insert(
            header::REFERER,
            HeaderValue::from_static("https://shop.example/page?x=1"),
        );
        assert_eq!(jsonp_origin(&h), Some("https://shop.example"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://a.example"),
        );
        assert_eq!(jsonp_origin(&h), Some("https://a.example"));
    }
}
