//! [`Origins`]: which browser origins may call an API, and the CORS headers that say so.
//!
//! The rules, one for every API (REST, CometD, files):
//! - a request without `Origin`, or from the server's own origin (the `Origin` host equals
//!   the `Host` header), is always allowed;
//! - a listed origin, or any origin when the list holds `"*"`, is allowed and its origin is
//!   echoed with `Access-Control-Allow-Credentials: true` (browsers refuse a bare `*` for
//!   credentialed requests, and the CometD client always sends credentials);
//! - any other origin is refused before the request is executed (the browser would only
//!   have hidden the answer);
//! - every answer carries `Vary: Origin`, since it depends on it.

use axum::http::{HeaderName, HeaderValue, header};

/// Request headers a browser may send cross-origin (Genesys Widgets send `apikey` and
/// `Authorization`).
pub const ALLOW_HEADERS: &str = "apikey, authorization, content-type, x-api-key, x-requested-with";

/// The origins one API (or the union of several) allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    any: bool,
    list: Vec<String>,
}

/// An origin as compared: lower case, no trailing slash.
fn normal(o: &str) -> String {
    o.trim().trim_end_matches('/').to_ascii_lowercase()
}

impl Origins {
    /// From configured entries (`"*"` or `scheme://host[:port]`).
    pub fn new(list: &[String]) -> Self {
        Self {
            any: list.iter().any(|o| o.trim() == "*"),
            list: list
                .iter()
                .filter(|o| o.trim() != "*")
                .map(|o| normal(o))
                .collect(),
        }
    }

    /// Every origin any of `sets` allows.
    pub fn union<'a>(sets: impl IntoIterator<Item = &'a Origins>) -> Self {
        let mut out = Self::default();
        for s in sets {
            out.any |= s.any;
            for o in &s.list {
                if !out.list.contains(o) {
                    out.list.push(o.clone());
                }
            }
        }
        out
    }

    /// Whether a request with `origin` (its `Origin` header) to the host `host` (its `Host`
    /// header) may be served.
    pub fn allows(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        match origin {
            None => true,
            Some(o) => same_origin(o, host) || self.any || self.list.contains(&normal(o)),
        }
    }

    /// The CORS headers for an allowed cross-origin request (nothing but `Vary` otherwise);
    /// `preflight` names the methods to allow for an `OPTIONS` preflight.
    pub fn headers(
        &self,
        origin: Option<&str>,
        host: Option<&str>,
        preflight: Option<&'static str>,
    ) -> Vec<(HeaderName, HeaderValue)> {
        let mut out = vec![(header::VARY, HeaderValue::from_static("Origin"))];
        let Some(o) = origin else { return out };
        if same_origin(o, host) || !self.allows(origin, host) {
            return out;
        }
        let Ok(value) = HeaderValue::from_str(o.trim()) else {
            return out;
        };
        out.push((header::ACCESS_CONTROL_ALLOW_ORIGIN, value));
        out.push((
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        ));
        match preflight {
            Some(methods) => {
                out.push((
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static(methods),
                ));
                out.push((
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static(ALLOW_HEADERS),
                ));
                out.push((
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static("600"),
                ));
            }
            None => out.push((
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("Retry-After"),
            )),
        }
        out
    }
}

/// Whether `origin` names the host the request was sent to.
fn same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host.map(str::trim).filter(|h| !h.is_empty()) else {
        return false;
    };
    origin
        .trim()
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/').eq_ignore_ascii_case(host))
}

/// The origin (`scheme://host[:port]`) of a URL such as a `Referer`, for requests that carry
/// no `Origin` (script tags, i.e. JSONP).
pub fn origin_of_url(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (!scheme.is_empty() && end > 0).then(|| &url[..scheme.len() + 3 + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(h: &'a [(HeaderName, HeaderValue)], name: &HeaderName) -> Option<&'a str> {
        h.iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.to_str().ok())
    }

    #[test]
    fn listed_and_star_origins_are_echoed_with_credentials() {
        let list = Origins::new(&["https://shop.example/".into()]);
        let h = list.headers(Some("https://SHOP.example"), Some("chat.example"), None);
        assert_eq!(
            get(&h, &header::ACCESS_CONTROL_ALLOW_ORIGIN),
            Some("https://SHOP.example")
        );
        assert_eq!(
            get(&h, &header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
            Some("true")
        );
        assert_eq!(get(&h, &header::VARY), Some("Origin"));
        let star = Origins::new(&["*".into()]);
        let h = star.headers(Some("https://any.example"), None, Some("POST, OPTIONS"));
        assert_eq!(
            get(&h, &header::ACCESS_CONTROL_ALLOW_ORIGIN),
            Some("https://any.example"),
            "never a bare * (browsers refuse it with credentials)"
        );
        assert!(
            get(&h, &header::ACCESS_CONTROL_ALLOW_HEADERS).is_some_and(|v| v.contains("apikey"))
        );
    }

    #[test]
    fn others_are_refused_but_same_origin_and_no_origin_pass() {
        let list = Origins::new(&["https://shop.example".into()]);
        assert!(!list.allows(Some("https://evil.example"), Some("chat.example")));
        let h = list.headers(Some("https://evil.example"), Some("chat.example"), None);
        assert_eq!(h.len(), 1, "only Vary: {h:?}");
        assert!(list.allows(None, Some("chat.example")));
        assert!(list.allows(Some("http://chat.example:8080"), Some("chat.example:8080")));
        assert!(!Origins::default().allows(Some("https://shop.example"), None));
    }

    #[test]
    fn unions_and_referers() {
        let a = Origins::new(&["https://a.example".into()]);
        let b = Origins::new(&["https://b.example".into()]);
        let u = Origins::union([&a, &b]);
        assert!(u.allows(Some("https://b.example"), None));
        assert_eq!(
            origin_of_url("https://a.example:8443/page?x=1"),
            Some("https://a.example:8443")
        );
        assert_eq!(
            origin_of_url("https://a.example"),
            Some("https://a.example")
        );
        assert_eq!(origin_of_url("nonsense"), None);
    }
}
