//! The headers of a file download, the same for every API: always offered as an attachment
//! under its name (RFC 6266: `filename` as plain ASCII, every character a quoted string
//! cannot hold safely — quotes, backslashes, `%`, controls such as CR and LF, non-ASCII —
//! replaced by `_`, and `filename*` with the exact name percent-encoded as UTF-8, RFC 5987,
//! which clients that know it prefer), typed as judged from its content, and under headers
//! that keep a browser from sniffing, rendering, framing or caching it.

use axum::http::{HeaderMap, HeaderValue, header};
use std::fmt::Write;

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name>`.
pub fn content_disposition(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if !matches!(c, '"' | '\\' | '%') => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        // RFC 5987 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~"; anything else percent-encoded.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            let _ = write!(encoded, "%{b:02X}");
        }
    }
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

/// Adds to `h` the headers of a download of `size` bytes named `name`, of type `mime`.
pub fn headers(h: &mut HeaderMap, name: &str, mime: &str, size: u64) {
    let mime =
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, mime);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    let disposition = HeaderValue::from_str(&content_disposition(name))
        .unwrap_or(HeaderValue::from_static("attachment"));
    h.insert(header::CONTENT_DISPOSITION, disposition);
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
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn a_file_name_cannot_break_out_of_its_header() {
        assert_eq!(
            content_disposition("report 1.pdf"),
            "attachment; filename=\"report 1.pdf\"; filename*=UTF-8''report%201.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\\c\r\nSet-Cookie: x%.txt"),
            "attachment; filename=\"a_b_c__Set-Cookie: x_.txt\"; \
             filename*=UTF-8''a%22b%5Cc%0D%0ASet-Cookie%3A%20x%25.txt"
        );
        assert_eq!(
            content_disposition("ünï 😀.png"),
            "attachment; filename=\"_n_ _.png\"; \
             filename*=UTF-8''%C3%BCn%C3%AF%20%F0%9F%98%80.png"
        );
    }
}
