//! Embeds every file under `web/widget`, `web/console` and `web/demo` (from the workspace
//! root): writes `$OUT_DIR/assets.rs`, a sorted table with each file's bytes
//! (`include_bytes!`), its gzip form (computed here, kept only when smaller), its
//! `Content-Type` and strong ETags from a SHA-256 of its bytes. Skipped: dotfiles and
//! dot-folders, `node_modules`, `package*.json`, `tsconfig.json`, `eslint.config.js`, and
//! names that would need URL encoding (with a warning). Cargo reruns this when anything under
//! those folders changes, so a new or edited file needs no Rust change.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "src/mime.rs"]
#[allow(dead_code, unreachable_pub)]
mod mime;
#[path = "src/select.rs"]
#[allow(dead_code, unreachable_pub)]
mod select;
#[path = "src/squeeze.rs"]
#[allow(dead_code, unreachable_pub)]
mod squeeze;

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The served folders under `web/`, in the order of the `Area` enum.
const AREAS: [(&str, &str); 3] = [
    ("widget", "Widget"),
    ("console", "Console"),
    ("demo", "Demo"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let web = manifest.join("../../web");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/mime.rs");
    println!("cargo:rerun-if-changed=src/select.rs");
    println!("cargo:rerun-if-changed=src/squeeze.rs");
    let gz_dir = out.join("gz");
    std::fs::create_dir_all(&gz_dir).expect("create $OUT_DIR/gz");
    let mut table = String::from("&[\n");
    let mut n = 0usize;
    for (folder, area) in AREAS {
        let root = web.join(folder);
        // A folder git does not have yet: watch `web/` so its creation is noticed.
        let watched = if root.is_dir() { &root } else { &web };
        println!("cargo:rerun-if-changed={}", watched.display());
        let mut files = Vec::new();
        if root.is_dir() {
            walk(&root, "", &mut files);
        }
        files.sort();
        for rel in files {
            let src = root.join(&rel);
            let raw = std::fs::read(&src).expect("read an asset");
            let hash = hex(&Sha256::digest(&raw)[..16]);
            let gzip = squeeze::gzip_if_smaller(&raw).map(|g| {
                let p = gz_dir.join(format!("{n}.gz"));
                std::fs::write(&p, g).expect("write a gzip asset");
                p
            });
            n += 1;
            let content_type = mime::content_type(&rel).unwrap_or_else(|| {
                println!(
                    "cargo:warning=web/{folder}/{rel}: unknown extension, served as {}",
                    mime::UNKNOWN
                );
                mime::UNKNOWN
            });
            let gzip = match gzip {
                Some(p) => format!("Some(include_bytes!({:?}))", p.display().to_string()),
                None => "None".to_owned(),
            };
            let _ = writeln!(
                table,
                "    Asset {{ area: Area::{area}, path: {rel:?}, content_type: {content_type:?}, \
                 raw: include_bytes!({src:?}), gzip: {gzip}, \
                 etag: \"\\\"{hash}\\\"\", gzip_etag: \"\\\"{hash}-gzip\\\"\" }},",
                src = src.display().to_string(),
            );
        }
    }
    table.push(']');
    let mut f = std::fs::File::create(out.join("assets.rs")).expect("create assets.rs");
    f.write_all(table.as_bytes()).expect("write assets.rs");
}

/// Collects the served files under `dir` as `/`-separated paths relative to the area root.
fn walk(dir: &Path, prefix: &str, files: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read an asset folder")
        .map(|e| e.expect("read an asset folder entry"))
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if select::is_skipped(&name) {
            continue;
        }
        let rel = format!("{prefix}{name}");
        if !select::url_safe(&name) {
            println!("cargo:warning=web/…/{rel}: not embedded (the name needs URL encoding)");
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(&path, &format!("{rel}/"), files);
        } else if path.is_file() {
            files.push(rel);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
