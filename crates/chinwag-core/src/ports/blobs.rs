//! The blob-store port: the bytes of uploaded files, each bound to its chat. A file goes in
//! as a stream of chunks under a size cap checked while it streams (never held whole), and
//! comes out as a stream; a chat's files are deleted one by one or all at once (retention).
//!
//! Contract (checked by `chinwag-store-conformance::blobs`):
//! - `put` reads the stream to its end and stores exactly those bytes under a fresh
//!   [`BlobId`]; it returns only once the file is durable. A body longer than `cap` bytes
//!   fails with [`BlobError::TooLarge`] as soon as the cap is passed; a body at the cap is
//!   stored. A failed put (too large, the source failing) leaves nothing behind.
//! - A blob is found only under the chat it was put for: `get` or `delete` with another
//!   chat's id finds nothing.
//! - `delete_chat` removes every blob of the chat and no other.

use crate::ids::{BlobId, ChatId};
use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;
use std::pin::Pin;

/// A stream of byte chunks: an upload's body going in, a stored file coming out.
pub type ByteStream<'a> = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'a>>;

/// A stored blob: its id and size in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    /// The new blob's id.
    pub id: BlobId,
    /// Its size in bytes.
    pub size: u64,
}

/// A blob being read back.
pub struct BlobRead {
    /// Its size in bytes (for `Content-Length`).
    pub size: u64,
    /// Its bytes.
    pub body: ByteStream<'static>,
}

impl std::fmt::Debug for BlobRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobRead")
            .field("size", &self.size)
            .finish()
    }
}

/// What can go wrong with a blob.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The body passed the cap; nothing was stored.
    #[error("the file is larger than {cap} bytes")]
    TooLarge {
        /// The cap, in bytes.
        cap: u64,
    },
    /// No such blob in this chat.
    #[error("no such file")]
    NotFound,
    /// The chat id cannot name a place in the store (not 1 to 64 of `[0-9A-Za-z_-]`).
    #[error("chat id not usable as a blob key")]
    BadChat,
    /// Reading the body failed (the client went away); nothing was stored.
    #[error("reading the upload failed: {0}")]
    Source(std::io::Error),
    /// The backend failed (disk full, I/O error, object storage unreachable).
    #[error("blob store failure: {0}")]
    Backend(String),
}

/// Where uploaded files' bytes are kept.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `body` as a new blob of `chat`, refusing it past `cap` bytes.
    async fn put(
        &self,
        chat: &ChatId,
        body: ByteStream<'_>,
        cap: u64,
    ) -> Result<StoredBlob, BlobError>;
    /// Reads blob `id` of `chat`.
    async fn get(&self, chat: &ChatId, id: &BlobId) -> Result<BlobRead, BlobError>;
    /// Deletes blob `id` of `chat`: whether it was there.
    async fn delete(&self, chat: &ChatId, id: &BlobId) -> Result<bool, BlobError>;
    /// The blobs of `chat`, in no particular order.
    async fn list(&self, chat: &ChatId) -> Result<Vec<StoredBlob>, BlobError>;
    /// Deletes every blob of `chat`: how many there were.
    async fn delete_chat(&self, chat: &ChatId) -> Result<u64, BlobError>;
}

/// `chat` as a path segment or key prefix, if it is safe as one: 1 to 64 characters of
/// `[0-9A-Za-z_-]` (Chinwag's own chat ids are 16 alphanumerics).
pub fn chat_segment(chat: &ChatId) -> Result<&str, BlobError> {
    let s = chat.as_str();
    let ok = (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(s).ok_or(BlobError::BadChat)
}

/// Counts a body's bytes against a cap as its chunks arrive, so every backend refuses a body
/// at the same byte.
#[derive(Debug)]
pub struct CapCounter {
    cap: u64,
    seen: u64,
}

impl CapCounter {
    /// A counter for a body of at most `cap` bytes.
    pub fn new(cap: u64) -> Self {
        Self { cap, seen: 0 }
    }
    /// Adds a chunk of `len` bytes: an error once the total passes the cap.
    pub fn add(&mut self, len: usize) -> Result<(), BlobError> {
        self.seen = self.seen.saturating_add(len as u64);
        if self.seen > self.cap {
            Err(BlobError::TooLarge { cap: self.cap })
        } else {
            Ok(())
        }
    }
    /// The bytes counted so far.
    pub fn total(&self) -> u64 {
        self.seen
    }
}
