//! File transfer settings: per service, `[services.<name>.files]` — Chat Server's file limits
//! (`upload-max-file-size`, `upload-max-files`, `upload-max-total-size`, `upload-file-types`,
//! `download-attempts`, `upload-need-agent`, `delete-file`) in this file's naming, translated
//! into the engine's [`FileSettings`]; and the top-level `[files]`: where uploaded bytes are
//! kept (`store = "fs"`, a directory, or `"s3"`, an S3-compatible bucket).
//!
//! With a Redis chat store several nodes may serve the same chats, so a file uploaded through
//! one must be readable through all: `fs` is then refused unless `fs_shared = true` says the
//! directory is the same for every node (a single node, or a shared file system), and when
//! `store` is not set at all file transfer is off (with a warning) rather than the server
//! refusing a configuration that worked before file transfer existed.

use anyhow::{bail, ensure};
use chinwag_core::files::{FileKind, FileSettings};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `[services.<name>.files]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FilesConfig {
    pub(crate) enabled: bool,
    pub(crate) upload_max_file_size: u64,
    pub(crate) upload_max_files: u32,
    pub(crate) upload_max_total_size: u64,
    pub(crate) upload_file_types: String,
    pub(crate) download_attempts: u32,
    pub(crate) upload_need_agent: bool,
    pub(crate) delete_file: bool,
}

impl Default for FilesConfig {
    fn default() -> Self {
        let d = FileSettings::default();
        Self {
            enabled: d.enabled,
            upload_max_file_size: d.max_file_size,
            upload_max_files: d.max_files,
            upload_max_total_size: d.max_total_size,
            upload_file_types: d.file_types,
            download_attempts: d.download_attempts,
            upload_need_agent: d.need_agent,
            delete_file: d.delete_gives_slot,
        }
    }
}

/// Every extension `upload_file_types` may name (those whose content is recognised).
fn known_extensions() -> impl Iterator<Item = &'static str> {
    use FileKind::*;
    [Jpeg, Png, Gif, Webp, Bmp, Pdf, Zip, Ole, Text]
        .into_iter()
        .flat_map(|k| k.extensions().iter().copied())
}

impl FilesConfig {
    /// The engine's settings for service `name`, checked.
    pub(crate) fn settings(&self, name: &str) -> anyhow::Result<FileSettings> {
        let at = format!("services.{name}.files");
        for (key, v) in [
            ("upload_max_file_size", self.upload_max_file_size),
            ("upload_max_total_size", self.upload_max_total_size),
            ("upload_max_files", u64::from(self.upload_max_files)),
            ("download_attempts", u64::from(self.download_attempts)),
        ] {
            ensure!(v > 0, "{at}.{key} must be at least 1");
        }
        ensure!(
            self.upload_max_file_size <= 1 << 40,
            "{at}.upload_max_file_size must be at most 1 TiB"
        );
        let types: Vec<&str> = self.upload_file_types.split(':').map(str::trim).collect();
        ensure!(
            types.iter().any(|t| !t.is_empty()),
            "{at}.upload_file_types must name at least one extension (jpg:png:pdf, say)"
        );
        for t in &types {
            if !known_extensions().any(|k| k.eq_ignore_ascii_case(t)) {
                let known: Vec<&str> = known_extensions().collect();
                bail!(
                    "{at}.upload_file_types: '{t}' is not an extension Chinwag recognises by content (one of {})",
                    known.join(", ")
                );
            }
        }
        Ok(FileSettings {
            enabled: self.enabled,
            max_file_size: self.upload_max_file_size,
            max_files: self.upload_max_files,
            max_total_size: self.upload_max_total_size,
            file_types: types.join(":"),
            download_attempts: self.download_attempts,
            need_agent: self.upload_need_agent,
            delete_gives_slot: self.delete_file,
        })
    }
}

/// `[files]`: where uploaded files are kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FileStoreConfig {
    /// `"fs"`: a directory (`dir`, or `<server.data_dir>/files`); `"s3"`: a bucket. Unset:
    /// `fs` with an SQLite chat store, no file transfer with Redis.
    pub(crate) store: Option<String>,
    /// `fs`: the directory (default `<server.data_dir>/files`).
    pub(crate) dir: Option<PathBuf>,
    /// `fs` with a Redis chat store: the operator vouches that every node sees the same
    /// directory (one node, or a shared file system). Without it, `fs` on Redis is refused:
    /// a file uploaded through one node must be downloadable through any other.
    pub(crate) fs_shared: bool,
    /// `fs`: write and read files of 1 MiB and more around the page cache (`O_DIRECT`), which
    /// saves the CPU a copy per byte. Default on; a filesystem that refuses it is detected.
    pub(crate) fs_direct_io: Option<bool>,
    /// `s3`: settings of the bucket.
    pub(crate) s3: S3Section,
    /// The scan uploads pass before they are announced.
    pub(crate) scan: super::scan::ScanConfig,
}

/// `[files.s3]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct S3Section {
    /// Endpoint URL (`https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:9000`).
    pub(crate) endpoint: String,
    /// Bucket name.
    pub(crate) bucket: String,
    /// Region (any value for most S3-compatible servers).
    pub(crate) region: String,
    /// Access key id (or `CHINWAG_S3_ACCESS_KEY`).
    pub(crate) access_key: String,
    /// Secret access key (or `CHINWAG_S3_SECRET_KEY`).
    pub(crate) secret_key: String,
    /// Key prefix of every object.
    pub(crate) prefix: String,
    /// Allow a plain `http://` endpoint (a bucket on the same host or private network).
    pub(crate) allow_http: bool,
}

/// Environment variables that supply the S3 credentials when the file does not.
pub(crate) const ENV_ACCESS_KEY: &str = "CHINWAG_S3_ACCESS_KEY";
/// See [`ENV_ACCESS_KEY`].
pub(crate) const ENV_SECRET_KEY: &str = "CHINWAG_S3_SECRET_KEY";

/// Where the bytes go, checked.
#[derive(Debug, Clone)]
pub(crate) enum FileStore {
    /// A directory, and whether large files bypass the page cache there.
    Fs { dir: PathBuf, direct_io: bool },
    /// A bucket.
    S3(chinwag_blob_s3::S3Config),
    /// None: file transfer is off (a Redis chat store with no `files.store`).
    Off,
}

impl FileStoreConfig {
    /// The store to open, checked against the chat store (`redis`: several nodes may serve).
    pub(crate) fn target(&self, data_dir: &Path, redis: bool) -> anyhow::Result<FileStore> {
        match self.store.as_deref() {
            None if redis => Ok(FileStore::Off),
            None | Some("fs") => {
                ensure!(
                    !redis || self.fs_shared,
                    "files.store = \"fs\" with a Redis chat store: nodes would not see each other's files. Use files.store = \"s3\", or set files.fs_shared = true if every node uses the same directory (a single node, or a shared file system)"
                );
                Ok(FileStore::Fs {
                    dir: self.dir.clone().unwrap_or_else(|| data_dir.join("files")),
                    direct_io: self.fs_direct_io.unwrap_or(true),
                })
            }
            Some("s3") => self.s3.config().map(FileStore::S3),
            Some(other) => bail!("files.store '{other}' must be \"fs\" or \"s3\""),
        }
    }
}

impl S3Section {
    fn config(&self) -> anyhow::Result<chinwag_blob_s3::S3Config> {
        let env = |v: &str, name: &str| {
            if v.is_empty() {
                std::env::var(name).unwrap_or_default()
            } else {
                v.to_owned()
            }
        };
        let (access_key, secret_key) = (
            env(&self.access_key, ENV_ACCESS_KEY),
            env(&self.secret_key, ENV_SECRET_KEY),
        );
        ensure!(!self.bucket.is_empty(), "files.s3.bucket is required");
        ensure!(
            self.endpoint.starts_with("https://")
                || (self.endpoint.starts_with("http://") && self.allow_http),
            "files.s3.endpoint must be an https:// URL (http:// only with files.s3.allow_http = true)"
        );
        ensure!(
            !access_key.is_empty() && !secret_key.is_empty(),
            "files.s3.access_key and secret_key are required (or {ENV_ACCESS_KEY} and {ENV_SECRET_KEY})"
        );
        Ok(chinwag_blob_s3::S3Config {
            endpoint: self.endpoint.clone(),
            bucket: self.bucket.clone(),
            region: if self.region.is_empty() {
                "us-east-1".into()
            } else {
                self.region.clone()
            },
            access_key,
            secret_key,
            prefix: self.prefix.clone(),
        })
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
