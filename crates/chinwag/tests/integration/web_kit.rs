//! Shared kit of the web asset tests: the files on disk that must be served (walked with
//! the embedding rule), a raw HTTP/1.1 exchange over a socket (to see exactly what `HEAD`
//! sends), gunzip, and header reading.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use crate::common::R;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The workspace's `web/` folder.
pub fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

/// Every file under `web/<folder>` that is an asset (as `chinwag-web`'s build script picks
/// them), as paths relative to that folder; empty when the folder does not exist.
pub fn files_on_disk(folder: &str) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let tooling = name.starts_with('.')
                || ["node_modules", "tsconfig.json", "eslint.config.js"].contains(&name.as_str())
                || (name.starts_with("package") && name.ends_with(".json"));
            if tooling {
                continue;
            }
            let rel = format!("{prefix}{name}");
            if e.path().is_dir() {
                walk(&e.path(), &format!("{rel}/"), out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(&web_dir().join(folder), "", &mut out);
    out.sort();
    out
}

/// The bytes of `web/<folder>/<path>` on disk.
pub fn disk_bytes(folder: &str, path: &str) -> Vec<u8> {
    std::fs::read(web_dir().join(folder).join(path)).unwrap()
}

/// Decompresses a gzip body.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A header's value as text ("" when absent).
pub fn h(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Sends `request` (a whole HTTP/1.1 request with `Connection: close`) to `addr` and returns
/// everything the server wrote before closing, within 5 s.
pub async fn raw_exchange(addr: &str, request: &str) -> R<Vec<u8>> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(request.as_bytes()).await?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await??;
    Ok(out)
}
