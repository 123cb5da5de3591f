//! Reading the request headers that choose a response: `Accept-Encoding` (is gzip
//! acceptable?) and `If-None-Match` (does the client already hold this representation?).
//! Both read every instance of their header; malformed parts are ignored, never an error.

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_ENCODING, IF_NONE_MATCH};

/// Whether `Accept-Encoding` allows gzip: `gzip` (or `x-gzip`) with a non-zero weight, or
/// `*` with a non-zero weight when gzip is not listed. No header: identity only.
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut named: Option<bool> = None;
    let mut star = false;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let wanted = parts.all(|p| !is_zero_weight(p));
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                // An explicit refusal wins over an acceptance elsewhere.
                named = Some(named.unwrap_or(true) && wanted);
            } else if coding == "*" {
                star = wanted;
            }
        }
    }
    named.unwrap_or(star)
}

/// Whether one `;`-separated parameter is a weight that refuses the coding (`q=0`, `q=0.0`);
/// a weight that does not parse refuses it too.
fn is_zero_weight(param: &str) -> bool {
    let Some((name, value)) = param.split_once('=') else {
        return false;
    };
    if !name.trim().eq_ignore_ascii_case("q") {
        return false;
    }
    value.trim().parse::<f32>().map_or(true, |q| q <= 0.0)
}

/// Whether `If-None-Match` lists one of `etags` (weak comparison, as RFC 9110 asks for this
/// header) or is `*`.
pub(crate) fn none_match(headers: &HeaderMap, etags: &[&str]) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || etags.contains(&tag.strip_prefix("W/").unwrap_or(tag)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(name: axum::http::HeaderName, values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(name.clone(), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn gzip_is_chosen_only_when_allowed() {
        let yes = [
            &["gzip"][..],
            &["gzip, deflate, br"],
            &["br;q=1.0, GZIP;q=0.5"],
            &["*"],
            &["deflate", "x-gzip"],
            &["gzip;q=0.001"],
        ];
        for v in yes {
            assert!(accepts_gzip(&with(ACCEPT_ENCODING, v)), "{v:?}");
        }
        let no = [
            &[][..],
            &["identity"],
            &["gzip;q=0"],
            &["gzip; q=0.000"],
            &["*, gzip;q=0"],
            &["gzip;q=0", "gzip"],
            &["*;q=0"],
            &["gzip;q=nope"],
            &["br, deflate"],
            &["gzipx"],
        ];
        for v in no {
            assert!(!accepts_gzip(&with(ACCEPT_ENCODING, v)), "{v:?}");
        }
    }

    #[test]
    fn if_none_match_lists_star_or_weak_equal_tags() {
        let tags = ["\"abc\"", "\"abc-gzip\""];
        for v in [
            &["\"abc\""][..],
            &["\"x\", \"abc-gzip\""],
            &["W/\"abc\""],
            &["*"],
            &["\"x\"", "\"abc\""],
        ] {
            assert!(none_match(&with(IF_NONE_MATCH, v), &tags), "{v:?}");
        }
        for v in [&[][..], &["\"ab\""], &["abc"], &["\"ABC\""]] {
            assert!(!none_match(&with(IF_NONE_MATCH, v), &tags), "{v:?}");
        }
    }
}
