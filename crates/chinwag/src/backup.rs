//! `chinwag backup DEST`: a consistent single-file copy of the store's database, taken with
//! SQLite's online backup while the server may be running. The data directory is resolved as
//! for `serve` (flag, then `CHINWAG_DATA_DIR`, then the config file's `server.data_dir`).

use crate::config::Config;
use anyhow::Context;
use std::path::Path;

/// The database file `serve` opens in the data directory.
const DB_FILE: &str = "chinwag.db";

/// Writes the copy of the database under `cfg.server.data_dir` to `dest`.
pub(crate) fn run(cfg: &Config, dest: &Path) -> anyhow::Result<()> {
    if cfg.store.is_redis() {
        anyhow::bail!(
            "store.url names Redis: back it up with Redis's own persistence (AOF, BGSAVE), see docs/cluster.md"
        );
    }
    let src = cfg.server.data_dir.join(DB_FILE);
    if !src.is_file() {
        anyhow::bail!(
            "no database at {} (set --data-dir, CHINWAG_DATA_DIR or server.data_dir in --config)",
            src.display()
        );
    }
    if dest.exists() {
        anyhow::bail!(
            "{} already exists: refusing to overwrite it",
            dest.display()
        );
    }
    chinwag_store_sqlite::SqliteStore::backup_file(&src, dest)
        .with_context(|| format!("while backing up {} to {}", src.display(), dest.display()))?;
    let bytes = std::fs::metadata(dest).map_or(0, |m| m.len());
    println!(
        "backup of {} written to {} ({bytes} bytes)",
        src.display(),
        dest.display()
    );
    Ok(())
}
