//! The store's writes, shaped for the one-CPU case the server is tuned for: every blocking
//! call is a trip to tokio's blocking pool (a thread switch), so writes gather the body's
//! chunks, without copying them, into one vectored write of about [`WRITE_BATCH`] bytes.
//!
//! A batch holds the chunks as they came ([`Bytes`] are reference-counted), so an upload
//! costs at most one batch of memory here, whatever the file's size. Uploads that get a pair
//! of aligned buffers from the store's [`Pool`] are written around the page cache instead
//! ([`crate::direct`]), one buffer written while the other fills.

use crate::direct::{Buf, Out, Pool};
use bytes::Bytes;
use chinwag_core::ports::{BlobError, ByteStream, CapCounter};
use futures_util::StreamExt;
use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Bytes gathered before one write.
pub(crate) const WRITE_BATCH: usize = 64 * 1024;
/// Chunks gathered before one write, whatever their size (a bound on the vector's length).
const WRITE_SLICES: usize = 256;

/// Runs blocking `f` on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
}

/// Creates `path` (it must not exist) and writes `body` to it under `cap` bytes, synced
/// before this returns. Returns the bytes written.
pub(crate) async fn write_new(
    path: PathBuf,
    body: ByteStream<'_>,
    cap: u64,
    pool: &Arc<Pool>,
) -> Result<u64, BlobError> {
    let create = path.clone();
    let file = blocking(move || File::create_new(create))
        .await
        .map_err(crate::backend)?;
    match pool.take_pair() {
        Some(bufs) => write_direct(Out::new(path, file, Arc::clone(pool)), body, cap, bufs).await,
        None => write_gathered(file, body, cap).await,
    }
}

/// The page-cache path: chunks gathered into one vectored write per [`WRITE_BATCH`].
async fn write_gathered(
    mut file: File,
    mut body: ByteStream<'_>,
    cap: u64,
) -> Result<u64, BlobError> {
    let mut counter = CapCounter::new(cap);
    let mut batch: Vec<Bytes> = Vec::new();
    let mut gathered = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(BlobError::Source)?;
        counter.add(chunk.len())?;
        if chunk.is_empty() {
            continue;
        }
        gathered += chunk.len();
        batch.push(chunk);
        if gathered >= WRITE_BATCH || batch.len() >= WRITE_SLICES {
            let chunks = std::mem::take(&mut batch);
            file = blocking(move || write_chunks(&mut file, &chunks).map(|()| file))
                .await
                .map_err(crate::backend)?;
            gathered = 0;
        }
    }
    blocking(move || {
        write_chunks(&mut file, &batch)?;
        file.sync_all()
    })
    .await
    .map_err(crate::backend)?;
    Ok(counter.total())
}

/// The direct path: the body copied into `bufs` in turn, each full one written on the
/// blocking pool while the next fills.
async fn write_direct(
    out: Out,
    mut body: ByteStream<'_>,
    cap: u64,
    bufs: [Buf; 2],
) -> Result<u64, BlobError> {
    let [mut fill, spare] = bufs;
    let mut writer = Writer::Idle(out, spare);
    let mut counter = CapCounter::new(cap);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(BlobError::Source)?;
        counter.add(chunk.len())?;
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            rest = &rest[fill.fill(rest)..];
            if fill.is_full() {
                let (mut out, mut next) = writer.ready().await.map_err(crate::backend)?;
                next.clear();
                let full = std::mem::replace(&mut fill, next);
                writer = Writer::Busy(tokio::task::spawn_blocking(move || {
                    out.write_full(&full)?;
                    Ok((out, full))
                }));
            }
        }
    }
    let (out, _) = writer.ready().await.map_err(crate::backend)?;
    blocking(move || out.finish(&fill))
        .await
        .map_err(crate::backend)?;
    Ok(counter.total())
}

/// Who holds an upload's file and spare buffer: this task, or the write in flight.
enum Writer {
    Idle(Out, Buf),
    Busy(JoinHandle<io::Result<(Out, Buf)>>),
    /// After a failed write: nothing more is written.
    Failed,
}

impl Writer {
    /// The file and the spare buffer, once no write is in flight.
    async fn ready(&mut self) -> io::Result<(Out, Buf)> {
        match std::mem::replace(self, Writer::Failed) {
            Writer::Idle(out, buf) => Ok((out, buf)),
            Writer::Busy(write) => write.await.unwrap_or_else(|e| Err(io::Error::other(e))),
            Writer::Failed => Err(io::Error::other("an earlier write of this file failed")),
        }
    }
}

/// Writes every byte of `chunks`, in order, with as few system calls as the kernel allows.
fn write_chunks(file: &mut File, chunks: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
