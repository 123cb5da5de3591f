//! The blob store of uploaded files, opened from `[files]`, and the scan hook of
//! `[files.scan]`, handed to the engine before serving (without a store, every file
//! operation is refused as disabled; without a scanner, uploads are not scanned).

use crate::config::{FileStore, ScanTarget};
use anyhow::Context;
use chinwag_core::ChatEngine;
use std::sync::Arc;

/// Opens the store `target` names and gives it to `engine`.
pub(crate) async fn open(engine: &ChatEngine, target: &FileStore) -> anyhow::Result<()> {
    match target {
        FileStore::Fs { dir, direct_io } => {
            let store = chinwag_blob_fs::FsBlobStore::open(dir)
                .await
                .with_context(|| format!("while opening the file store {}", dir.display()))?
                .with_direct_io(*direct_io);
            engine.set_blobs(Arc::new(store));
        }
        FileStore::S3(config) => {
            let store = chinwag_blob_s3::S3BlobStore::new(config)
                .map_err(|e| anyhow::anyhow!("while opening the S3 file store: {e}"))?;
            engine.set_blobs(Arc::new(store));
        }
        FileStore::Off => tracing::warn!(
            "file transfer is off: with a Redis chat store, set files.store (\"s3\", or \"fs\" with files.fs_shared = true)"
        ),
    }
    Ok(())
}

/// Gives `engine` the scanner `target` names, if any.
pub(crate) fn scanner(engine: &ChatEngine, target: Option<&ScanTarget>) {
    use chinwag_file_scan::{ClamdScanner, CommandScanner};
    let scanner: Arc<dyn chinwag_core::ports::FileScanner> = match target {
        None => return,
        Some(ScanTarget::Command {
            program,
            args,
            timeout,
        }) => Arc::new(CommandScanner::new(program.clone(), args.clone(), *timeout)),
        Some(ScanTarget::ClamdUnix(path, timeout)) => {
            Arc::new(ClamdScanner::unix(path.clone(), *timeout))
        }
        Some(ScanTarget::ClamdTcp(addr, timeout)) => Arc::new(ClamdScanner::tcp(*addr, *timeout)),
    };
    engine.set_scanner(scanner);
}
