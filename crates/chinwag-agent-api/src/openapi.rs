//! `GET /agent/v1/openapi.json`: the agent API's OpenAPI 3.1 document, `openapi.json` at the
//! crate's root, written by hand and embedded at build time. It needs no credentials. It is
//! served with `Cache-Control: no-cache` and a strong `ETag` (a hash of the document taken at
//! build time), so a client keeps a copy and revalidates it: `If-None-Match` naming the tag
//! (or `*`) answers `304` without a body. `tests/openapi.rs` checks the document against the
//! router; `tests/node/agent-openapi.test.mjs` checks the answers against the document.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The document.
const DOCUMENT: &str = include_str!("../openapi.json");

/// FNV-1a (64 bits) of the document, taken at build time.
const HASH: u64 = {
    let bytes = DOCUMENT.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
};

/// Whether an `If-None-Match` value names `etag` (weak tags compare as their strong form).
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// # `GET /agent/v1/openapi.json`
pub(crate) async fn document(headers: HeaderMap) -> Response {
    let etag = format!("\"{HASH:016x}\"");
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| matches(v, &etag));
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            DOCUMENT,
        )
            .into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_names_the_tag_weakly_in_a_list_or_as_a_star() {
        let tag = "\"00ff\"";
        assert!(matches("\"00ff\"", tag));
        assert!(matches("W/\"00ff\"", tag));
        assert!(matches("\"a\", \"00ff\"", tag));
        assert!(matches("*", tag));
        assert!(!matches("\"00fe\"", tag));
        assert!(!matches("00ff", tag));
    }

    #[test]
    fn the_document_is_json_of_openapi_3_1() -> Result<(), serde_json::Error> {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT)?;
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1."))
        );
        Ok(())
    }
}
