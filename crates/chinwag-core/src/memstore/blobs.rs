//! A non-durable [`BlobStore`] in memory, for unit tests (engines on the in-memory chat store
//! get file transfer too) and as one more implementation the blob conformance suite checks.
//! Bodies are counted against their cap as they arrive, like every backend; what it holds in
//! all is bounded by `max_total` bytes (a put past it fails as a backend failure).

use crate::ids::{BlobId, ChatId};
use crate::ports::{
    BlobError, BlobRead, BlobStore, ByteStream, CapCounter, StoredBlob, chat_segment,
};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use std::collections::HashMap;
use std::sync::Mutex;

/// Blobs in a map; lost when the process ends.
#[derive(Debug)]
pub struct MemoryBlobs {
    inner: Mutex<HashMap<(String, String), Bytes>>,
    max_total: u64,
}

impl MemoryBlobs {
    /// A store holding at most `max_total` bytes in all.
    pub fn new(max_total: u64) -> Self {
        Self {
            inner: Mutex::new(HashMap::new()),
            max_total,
        }
    }

    fn key(chat: &ChatId, id: &BlobId) -> Result<(String, String), BlobError> {
        Ok((
            chat_segment(chat)?.to_owned(),
            id.as_str().to_ascii_lowercase(),
        ))
    }
}

#[async_trait]
impl BlobStore for MemoryBlobs {
    async fn put(
        &self,
        chat: &ChatId,
        mut body: ByteStream<'_>,
        cap: u64,
    ) -> Result<StoredBlob, BlobError> {
        chat_segment(chat)?;
        let mut counter = CapCounter::new(cap);
        let mut buf = BytesMut::new();
        while let Some(chunk) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            let chunk = chunk.map_err(BlobError::Source)?;
            counter.add(chunk.len())?;
            buf.extend_from_slice(&chunk);
        }
        let id = BlobId::generate().map_err(|e| BlobError::Backend(e.to_string()))?;
        let mut inner = crate::engine::lock(&self.inner);
        let held: u64 = inner.values().map(|b| b.len() as u64).sum();
        if held.saturating_add(counter.total()) > self.max_total {
            return Err(BlobError::Backend("memory blob store full".into()));
        }
        inner.insert(Self::key(chat, &id)?, buf.freeze());
        Ok(StoredBlob {
            id,
            size: counter.total(),
        })
    }

    async fn get(&self, chat: &ChatId, id: &BlobId) -> Result<BlobRead, BlobError> {
        let bytes = crate::engine::lock(&self.inner)
            .get(&Self::key(chat, id)?)
            .cloned()
            .ok_or(BlobError::NotFound)?;
        let size = bytes.len() as u64;
        let once = futures_once(bytes);
        Ok(BlobRead { size, body: once })
    }

    async fn delete(&self, chat: &ChatId, id: &BlobId) -> Result<bool, BlobError> {
        Ok(crate::engine::lock(&self.inner)
            .remove(&Self::key(chat, id)?)
            .is_some())
    }

    async fn list(&self, chat: &ChatId) -> Result<Vec<StoredBlob>, BlobError> {
        let seg = chat_segment(chat)?;
        Ok(crate::engine::lock(&self.inner)
            .iter()
            .filter(|((c, _), _)| c == seg)
            .filter_map(|((_, id), b)| {
                Some(StoredBlob {
                    id: BlobId::parse(id)?,
                    size: b.len() as u64,
                })
            })
            .collect())
    }

    async fn delete_chat(&self, chat: &ChatId) -> Result<u64, BlobError> {
        let seg = chat_segment(chat)?;
        let mut inner = crate::engine::lock(&self.inner);
        let before = inner.len();
        inner.retain(|(c, _), _| c != seg);
        Ok((before - inner.len()) as u64)
    }
}

/// A stream of one chunk (none when empty).
fn futures_once(bytes: Bytes) -> ByteStream<'static> {
    struct Once(Option<Bytes>);
    impl futures_core::Stream for Once {
        type Item = std::io::Result<Bytes>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.take().filter(|b| !b.is_empty()).map(Ok))
        }
    }
    Box::pin(Once(Some(bytes)))
}
