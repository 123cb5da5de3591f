//! The `Content-Type` of an asset, chosen by its file extension. Shared with `build.rs`
//! (which stores the answer in the asset table), so a type is decided once, at build time.

/// What an asset of an unlisted extension is served as (`build.rs` warns about it).
pub(crate) const UNKNOWN: &str = "application/octet-stream";

/// The `Content-Type` for a file name, or `None` when its extension is not listed.
pub(crate) fn content_type(file_name: &str) -> Option<&'static str> {
    let ext = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "wav" => "audio/wav",
        "webm" => "audio/webm",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_follow_the_extension_in_any_case() {
        assert_eq!(
            content_type("chinwag.js"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(content_type("a/b/Logo.SVG"), Some("image/svg+xml"));
        assert_eq!(content_type("index.html"), Some("text/html; charset=utf-8"));
        assert_eq!(content_type("demo.css"), Some("text/css; charset=utf-8"));
        assert_eq!(content_type("ding.mp3"), Some("audio/mpeg"));
    }

    #[test]
    fn unlisted_or_missing_extensions_have_no_type() {
        assert_eq!(content_type("README"), None);
        assert_eq!(content_type("archive.tar.zst"), None);
        assert_eq!(UNKNOWN, "application/octet-stream");
    }
}
