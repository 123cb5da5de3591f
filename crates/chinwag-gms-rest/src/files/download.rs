//! A download's answer: the file's bytes streamed from the blob store as they are read
//! (never held whole), typed by the MIME type judged from its content at upload, always
//! offered as an attachment under its safe name (RFC 6266, with the RFC 5987 UTF-8 form and
//! an ASCII fallback free of quotes, backslashes and control characters), and under headers
//! that keep a browser from sniffing, rendering or caching it.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chinwag_core::files::FileInfo;
use chinwag_core::ports::BlobRead;

/// The answer to a download of `info`, whose bytes `read` streams.
pub(crate) fn response(info: &FileInfo, read: BlobRead, cors: HeaderMap) -> Response {
    let mut res = (StatusCode::OK, Body::from_stream(read.body)).into_response();
    let h = res.headers_mut();
    let mime = HeaderValue::from_str(&info.mime)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, mime);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(read.size));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&info.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.extend(cors);
    res
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name>`.
pub(crate) fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        // RFC 5987 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~"; anything else percent-encoded.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn names_are_quoted_safely_and_encoded() {
        assert_eq!(
            content_disposition("report 1.pdf"),
            "attachment; filename=\"report 1.pdf\"; filename*=UTF-8''report%201.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\\c\r\nd%.txt"),
            "attachment; filename=\"a_b_c__d_.txt\"; filename*=UTF-8''a%22b%5Cc%0D%0Ad%25.txt"
        );
        assert_eq!(
            content_disposition("façade.txt"),
            "attachment; filename=\"fa_ade.txt\"; filename*=UTF-8''fa%C3%A7ade.txt"
        );
    }
}
