//! The gzip form of an asset, kept only when it is smaller than the asset. Shared with
//! `build.rs`, which compresses every asset once, at build time, at the best level.

use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write as _;

/// `raw` gzipped at the best level, or `None` when that would not be smaller.
pub(crate) fn gzip_if_smaller(raw: &[u8]) -> Option<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(raw).ok()?;
    enc.finish().ok().filter(|g| g.len() < raw.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn text_shrinks_and_round_trips_while_tiny_files_stay_as_they_are() {
        let text = "body { color: black; }\n".repeat(40);
        let Some(gz) = gzip_if_smaller(text.as_bytes()) else {
            panic!("repetitive text compresses");
        };
        assert!(gz.len() < text.len());
        let mut back = String::new();
        let read = flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut back);
        assert!(read.is_ok());
        assert_eq!(back, text);
        assert_eq!(
            gzip_if_smaller(b"ok\n"),
            None,
            "a gzip header alone is 18 bytes"
        );
        assert_eq!(gzip_if_smaller(b""), None);
    }
}
