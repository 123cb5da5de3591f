//! The embedded blob store: each chat's uploaded files in a directory of their own under a
//! root (the binary's data dir, `files/`), named by their [`BlobId`]: `<root>/<chat>/<id>`.
//!
//! A file is written to `<chat>/.part-<id>`, synced, renamed to its id, and the directory
//! synced before `put` returns, so a stored file survives a crash and a half-written one is
//! never seen under its id. A put that fails, or is dropped half-way (a client going away),
//! removes its part file; [`FsBlobStore::open`] removes any a crash left.
//!
//! Large files are written and read around the page cache where the filesystem allows
//! ([`direct`]); [`FsBlobStore::with_direct_io`] turns that off.

use async_trait::async_trait;
use chinwag_core::ids::{BlobId, ChatId};
use chinwag_core::ports::{BlobError, BlobRead, BlobStore, ByteStream, StoredBlob, chat_segment};
use std::io as stdio;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod direct;
mod io;
mod read;

pub use direct::BUF as DIRECT_WRITE_BLOCK;
pub use read::CHUNK as READ_CHUNK;

/// Part files (uploads in progress) start with this.
const PART_PREFIX: &str = ".part-";

/// Uploaded files under a directory.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    /// Aligned buffers for large files' direct writes, and whether direct I/O is on.
    pool: Arc<direct::Pool>,
}

impl FsBlobStore {
    /// Opens (creating it if needed) the store at `root`, removing part files a crash left.
    pub async fn open(root: impl Into<PathBuf>) -> stdio::Result<Self> {
        let root = root.into();
        tokio::fs::create_dir_all(&root).await?;
        let mut chats = tokio::fs::read_dir(&root).await?;
        while let Some(chat) = chats.next_entry().await? {
            if !chat.file_type().await?.is_dir() {
                continue;
            }
            let mut files = tokio::fs::read_dir(chat.path()).await?;
            while let Some(file) = files.next_entry().await? {
                if file.file_name().to_string_lossy().starts_with(PART_PREFIX) {
                    tracing::info!(path = %file.path().display(), "removing an unfinished upload");
                    tokio::fs::remove_file(file.path()).await?;
                }
            }
        }
        Ok(Self {
            root,
            pool: direct::Pool::new(true),
        })
    }

    /// The store with direct I/O for large files on (the default) or off. Off, every byte goes
    /// through the page cache: for a filesystem that accepts `O_DIRECT` but serves it badly.
    #[must_use]
    pub fn with_direct_io(mut self, on: bool) -> Self {
        self.pool = direct::Pool::new(on);
        self
    }

    /// The directory of `chat`'s files.
    fn chat_dir(&self, chat: &ChatId) -> Result<PathBuf, BlobError> {
        Ok(self.root.join(chat_segment(chat)?))
    }
}

/// A part file, removed when dropped unless it was renamed to its id (`done`).
struct PartFile(PathBuf, bool);

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.1 {
            // Blocking, but one unlink of a file this put created; it runs when the put
            // failed or its future was dropped, where there is nothing to await on.
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(
        &self,
        chat: &ChatId,
        body: ByteStream<'_>,
        cap: u64,
    ) -> Result<StoredBlob, BlobError> {
        let dir = self.chat_dir(chat)?;
        if tokio::fs::metadata(&dir).await.is_err() {
            tokio::fs::create_dir_all(&dir).await.map_err(backend)?;
            sync_dir(&self.root).await.map_err(backend)?;
        }
        let id = BlobId::generate().map_err(|e| BlobError::Backend(e.to_string()))?;
        let mut part = PartFile(dir.join(format!("{PART_PREFIX}{id}")), false);
        let size = io::write_new(part.0.clone(), body, cap, &self.pool).await?;
        tokio::fs::rename(&part.0, dir.join(id.as_str()))
            .await
            .map_err(backend)?;
        part.1 = true;
        sync_dir(&dir).await.map_err(backend)?;
        Ok(StoredBlob { id, size })
    }

    async fn get(&self, chat: &ChatId, id: &BlobId) -> Result<BlobRead, BlobError> {
        let path = self.chat_dir(chat)?.join(id.as_str());
        let pool = Arc::clone(&self.pool);
        let reader = tokio::task::spawn_blocking(move || read::Reader::open(&path, pool))
            .await
            .map_err(|e| BlobError::Backend(e.to_string()))?
            .map_err(not_found)?;
        Ok(BlobRead {
            size: reader.size(),
            body: Box::pin(read::read_stream(reader)),
        })
    }

    async fn delete(&self, chat: &ChatId, id: &BlobId) -> Result<bool, BlobError> {
        let dir = self.chat_dir(chat)?;
        match tokio::fs::remove_file(dir.join(id.as_str())).await {
            Ok(()) => {
                sync_dir(&dir).await.map_err(backend)?;
                Ok(true)
            }
            Err(e) if e.kind() == stdio::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn list(&self, chat: &ChatId) -> Result<Vec<StoredBlob>, BlobError> {
        let dir = self.chat_dir(chat)?;
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == stdio::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(backend(e)),
        };
        let mut out = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(backend)? {
            if let Some(id) = entry.file_name().to_str().and_then(BlobId::parse) {
                let size = entry.metadata().await.map_err(backend)?.len();
                out.push(StoredBlob { id, size });
            }
        }
        Ok(out)
    }

    async fn delete_chat(&self, chat: &ChatId) -> Result<u64, BlobError> {
        let count = self.list(chat).await?.len() as u64;
        match tokio::fs::remove_dir_all(self.chat_dir(chat)?).await {
            Ok(()) => sync_dir(&self.root).await.map_err(backend)?,
            Err(e) if e.kind() == stdio::ErrorKind::NotFound => {}
            Err(e) => return Err(backend(e)),
        }
        Ok(count)
    }
}

/// Makes a directory's entries (a rename, a removal) durable.
async fn sync_dir(dir: &Path) -> stdio::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

pub(crate) fn backend(e: stdio::Error) -> BlobError {
    BlobError::Backend(e.to_string())
}

fn not_found(e: stdio::Error) -> BlobError {
    if e.kind() == stdio::ErrorKind::NotFound {
        BlobError::NotFound
    } else {
        backend(e)
    }
}
