//! Bringing an upload in: the body is read until its first bytes tell its type (checked
//! against the service's `upload-file-types`), then streamed on to the blob store under the
//! size cap that is left, so it is refused at the first byte past the cap and never held
//! whole; a complete file then passes the scan hook, if one is set, before anyone may see it.

use crate::error::CoreError;
use crate::files::{FileError, FileKind, SNIFF_LEN, check_type, sanitize_file_name};
use crate::ids::{BlobId, ChatId};
use crate::ports::{BlobError, BlobStore, ByteStream, FileScanner, ScanVerdict};
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Longest a scan may take before the file is refused (fail closed).
pub const SCAN_TIMEOUT: Duration = Duration::from_secs(60);

/// An upload's body as the adapter streams it in.
pub struct FileBody<'a> {
    /// The name the client gave (made safe before it is kept).
    pub name: String,
    /// The length the client announced (`Content-Length` of the part or request), if any:
    /// a body announced too large is refused before it is read.
    pub length: Option<u64>,
    /// The bytes.
    pub body: ByteStream<'a>,
}

impl std::fmt::Debug for FileBody<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBody")
            .field("name", &self.name)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// A file stored (and scanned) but not announced yet: [`crate::roles::Customers::announce`]
/// (or the agent's) makes it part of the chat; until then nobody can download it, and a
/// file never announced is deleted with the chat's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    /// The chat it was stored for.
    pub chat: ChatId,
    /// Its id.
    pub id: BlobId,
    /// Its safe name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its MIME type, from its content.
    pub mime: &'static str,
}

/// Which limit a cap came from, to word a refusal by it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bound {
    /// `upload-max-file-size`.
    File(u64),
    /// What `upload-max-total-size` leaves.
    Total(u64),
}

impl Bound {
    pub(super) fn error(self) -> FileError {
        match self {
            Self::File(max) => FileError::FileTooLarge { max },
            Self::Total(max) => FileError::TotalTooLarge { max },
        }
    }
}

/// Stores `file` for `chat` under `cap` bytes (refused by `bound`), typed by its content
/// against `allowed`, then scanned.
pub(super) async fn stage(
    blobs: &Arc<dyn BlobStore>,
    scanner: Option<&Arc<dyn FileScanner>>,
    chat: &ChatId,
    file: FileBody<'_>,
    (cap, bound): (u64, Bound),
    allowed: &str,
) -> Result<StagedFile, CoreError> {
    if file.length.is_some_and(|len| len > cap) {
        return Err(bound.error().into());
    }
    let (head, rest) = read_head(file.body, SNIFF_LEN).await?;
    let kind = check_type(&head, allowed).map_err(|why| FileError::TypeNotAllowed {
        allowed: allowed.to_owned(),
        why: why.to_string(),
    })?;
    let name = safe_name(&file.name, kind);
    let body: ByteStream<'_> = Box::pin(Prefixed {
        head: Some(head).filter(|h| !h.is_empty()),
        rest,
    });
    let stored = blobs.put(chat, body, cap).await.map_err(|e| match e {
        BlobError::TooLarge { .. } => CoreError::File(bound.error()),
        BlobError::Source(e) => CoreError::File(FileError::Body(e.to_string())),
        other => blob_failure(other),
    })?;
    if let Some(scanner) = scanner
        && let Err(e) = scan(blobs, scanner.as_ref(), chat, &stored.id, stored.size).await
    {
        if let Err(del) = blobs.delete(chat, &stored.id).await {
            tracing::warn!(chat = %chat.as_str(), %del, "a refused upload was not deleted; it goes with the chat's files");
        }
        return Err(e);
    }
    Ok(StagedFile {
        chat: chat.clone(),
        id: stored.id,
        name,
        size: stored.size,
        mime: kind.mime(),
    })
}

async fn scan(
    blobs: &Arc<dyn BlobStore>,
    scanner: &dyn FileScanner,
    chat: &ChatId,
    id: &BlobId,
    size: u64,
) -> Result<(), CoreError> {
    let read = blobs.get(chat, id).await.map_err(blob_failure)?;
    match tokio::time::timeout(SCAN_TIMEOUT, scanner.scan(read.body, size)).await {
        Ok(Ok(ScanVerdict::Clean)) => Ok(()),
        Ok(Ok(ScanVerdict::Rejected(why))) => {
            tracing::info!(chat = %chat.as_str(), %why, "upload rejected by the scan hook");
            metrics::counter!("chinwag_files_rejected_total").increment(1);
            Err(FileError::Rejected(why).into())
        }
        Ok(Err(e)) => {
            tracing::warn!(chat = %chat.as_str(), %e, "upload refused: the scan hook failed");
            Err(FileError::ScanFailed.into())
        }
        Err(_) => {
            tracing::warn!(chat = %chat.as_str(), "upload refused: the scan hook timed out");
            Err(FileError::ScanFailed.into())
        }
    }
}

/// A blob-store failure that is not the client's doing.
pub(super) fn blob_failure(e: BlobError) -> CoreError {
    match e {
        BlobError::NotFound => FileError::NotFound.into(),
        BlobError::BadChat => CoreError::ChatNotFound,
        other => CoreError::Store(crate::StoreError::Backend(other.to_string())),
    }
}

/// `raw` made safe, with an extension that names what the content is (a JPEG sent as
/// `photo.exe` is kept as `photo.exe.jpg`, so no program opens it by its name).
fn safe_name(raw: &str, kind: FileKind) -> String {
    let exts = kind.extensions();
    let mut name = crate::files::sanitize_file_name(raw, crate::files::MAX_NAME_BYTES - 8);
    let ext_ok = name
        .rsplit_once('.')
        .is_some_and(|(_, e)| exts.iter().any(|k| k.eq_ignore_ascii_case(e)));
    if !ext_ok && let Some(first) = exts.first() {
        name.push('.');
        name.push_str(first);
    }
    sanitize_file_name(&name, crate::files::MAX_NAME_BYTES)
}

/// Reads `body` until `want` bytes (or its end): those bytes and the rest of the stream
/// (`None` once it ended: a stream is never polled past its end).
async fn read_head(
    mut body: ByteStream<'_>,
    want: usize,
) -> Result<(Bytes, Option<ByteStream<'_>>), CoreError> {
    let mut head = BytesMut::new();
    while head.len() < want {
        match std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(e)) => return Err(FileError::Body(e.to_string()).into()),
            None => return Ok((head.freeze(), None)),
        }
    }
    Ok((head.freeze(), Some(body)))
}

/// A stream with its first bytes put back in front.
struct Prefixed<'a> {
    head: Option<Bytes>,
    rest: Option<ByteStream<'a>>,
}

impl Stream for Prefixed<'_> {
    type Item = std::io::Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(head) = self.head.take() {
            return Poll::Ready(Some(Ok(head)));
        }
        let Some(rest) = self.rest.as_mut() else {
            return Poll::Ready(None);
        };
        let next = rest.as_mut().poll_next(cx);
        if let Poll::Ready(None) = next {
            self.rest = None;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_gets_the_extension_of_its_content() {
        assert_eq!(safe_name("photo.exe", FileKind::Jpeg), "photo.exe.jpg");
        assert_eq!(safe_name("photo.JPG", FileKind::Jpeg), "photo.JPG");
        assert_eq!(safe_name("../../etc/passwd", FileKind::Text), "passwd.txt");
        assert_eq!(safe_name("invoice.pdf", FileKind::Pdf), "invoice.pdf");
    }
}
