//! The cluster's blob store: uploaded files in S3-compatible object storage through the
//! `object_store` crate (`AmazonS3`, any endpoint, path-style), keyed
//! `<prefix>/<chat>/<id>` so a chat's files are one listing and another chat's id names no
//! object.
//!
//! A body that fits one part (5 MiB) is sent as one `PUT` once it has ended, so nothing is
//! written when it runs past the cap or fails; a longer one becomes a multipart upload, at
//! most two parts in flight, aborted when the body fails or passes the cap. An object
//! becomes visible only when its upload completes, so a failed put leaves no object. A put
//! dropped half-way cannot abort its multipart upload: configure the bucket to expire
//! incomplete multipart uploads. Small chunks are gathered before they are kept
//! ([`gather`]), so a body sent a byte at a time costs no more memory than its bytes.

use async_trait::async_trait;
use bytes::Bytes;
use chinwag_core::ids::{BlobId, ChatId};
use chinwag_core::ports::{
    BlobError, BlobRead, BlobStore, ByteStream, CapCounter, StoredBlob, chat_segment,
};
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use std::sync::Arc;

mod gather;

/// Size of one multipart part, and the most a single `PUT` carries.
const PART: usize = 5 * 1024 * 1024;
/// Parts of one upload in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

/// Where the bucket is and how to reach it.
#[derive(Clone, Debug)]
pub struct S3Config {
    /// Endpoint URL (`http://127.0.0.1:9000`, `https://s3.eu-west-1.amazonaws.com`).
    pub endpoint: String,
    /// Bucket name.
    pub bucket: String,
    /// Region (any value for most S3-compatible servers).
    pub region: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Key prefix of every object (`chinwag-files`, say); may be empty.
    pub prefix: String,
}

/// Uploaded files in an S3-compatible bucket.
#[derive(Clone, Debug)]
pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    prefix: String,
}

impl S3BlobStore {
    /// A store on `config`'s bucket (path-style requests; plain HTTP allowed).
    pub fn new(config: &S3Config) -> Result<Self, BlobError> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&config.endpoint)
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key)
            .with_secret_access_key(&config.secret_key)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(true)
            .build()
            .map_err(backend)?;
        Ok(Self {
            store: Arc::new(store),
            prefix: config.prefix.trim_matches('/').to_owned(),
        })
    }

    /// The key prefix of `chat`'s objects.
    fn chat_path(&self, chat: &ChatId) -> Result<Path, BlobError> {
        let chat = chat_segment(chat)?;
        Ok(if self.prefix.is_empty() {
            Path::from(chat)
        } else {
            Path::from(format!("{}/{chat}", self.prefix))
        })
    }

    fn blob_path(&self, chat: &ChatId, id: &BlobId) -> Result<Path, BlobError> {
        Ok(self.chat_path(chat)?.join(id.as_str()))
    }

    /// Sends the rest of `body` as a multipart upload starting with `first` (one part's
    /// worth already read).
    async fn put_multipart(
        &self,
        path: &Path,
        first: Vec<Bytes>,
        mut body: ByteStream<'_>,
        counter: &mut CapCounter,
    ) -> Result<(), BlobError> {
        let upload = self.store.put_multipart(path).await.map_err(backend)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        for chunk in first {
            writer.put(chunk);
        }
        let outcome: Result<(), BlobError> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(BlobError::Source)?;
                counter.add(chunk.len())?;
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(backend)?;
                writer.put(chunk);
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => writer.finish().await.map(drop).map_err(backend),
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(
        &self,
        chat: &ChatId,
        body: ByteStream<'_>,
        cap: u64,
    ) -> Result<StoredBlob, BlobError> {
        let mut body = gather::gathered(body, cap);
        let id = BlobId::generate().map_err(|e| BlobError::Backend(e.to_string()))?;
        let path = self.blob_path(chat, &id)?;
        let mut counter = CapCounter::new(cap);
        let mut first = Vec::new();
        let mut buffered = 0usize;
        while buffered <= PART {
            match body.next().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(BlobError::Source)?;
                    counter.add(chunk.len())?;
                    buffered += chunk.len();
                    first.push(chunk);
                }
                None => {
                    let payload: PutPayload = first.into_iter().collect();
                    self.store.put(&path, payload).await.map_err(backend)?;
                    return Ok(StoredBlob {
                        id,
                        size: counter.total(),
                    });
                }
            }
        }
        self.put_multipart(&path, first, body, &mut counter).await?;
        Ok(StoredBlob {
            id,
            size: counter.total(),
        })
    }

    async fn get(&self, chat: &ChatId, id: &BlobId) -> Result<BlobRead, BlobError> {
        let got = self
            .store
            .get(&self.blob_path(chat, id)?)
            .await
            .map_err(not_found)?;
        let size = got.meta.size;
        let body = got.into_stream().map(|r| r.map_err(std::io::Error::from));
        Ok(BlobRead {
            size,
            body: Box::pin(body),
        })
    }

    async fn delete(&self, chat: &ChatId, id: &BlobId) -> Result<bool, BlobError> {
        let path = self.blob_path(chat, id)?;
        match self.store.head(&path).await.map_err(not_found) {
            Ok(_) => {}
            Err(BlobError::NotFound) => return Ok(false),
            Err(e) => return Err(e),
        }
        self.store.delete(&path).await.map_err(backend)?;
        Ok(true)
    }

    async fn list(&self, chat: &ChatId) -> Result<Vec<StoredBlob>, BlobError> {
        let prefix = self.chat_path(chat)?;
        let mut listing = self.store.list(Some(&prefix));
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(backend)?;
            if let Some(id) = meta.location.filename().and_then(BlobId::parse) {
                out.push(StoredBlob {
                    id,
                    size: meta.size,
                });
            }
        }
        Ok(out)
    }

    async fn delete_chat(&self, chat: &ChatId) -> Result<u64, BlobError> {
        let blobs = self.list(chat).await?;
        for blob in &blobs {
            let path = self.blob_path(chat, &blob.id)?;
            match self.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(backend(e)),
            }
        }
        Ok(blobs.len() as u64)
    }
}

fn backend(e: object_store::Error) -> BlobError {
    BlobError::Backend(e.to_string())
}

fn not_found(e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        e => backend(e),
    }
}
