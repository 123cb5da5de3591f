//! The store's writes, shaped for the one-CPU case the server is tuned for: every blocking
//! call is a trip to tokio's blocking pool (a thread switch), so writes gather the body's
//! chunks, without copying them, into one vectored write of about [`WRITE_BATCH`] bytes.
//!
//! A batch holds the chunks as they came ([`Bytes`] are reference-counted), so an upload
//! costs at most one batch of memory here, whatever the file's size. Past its first
//! [`BUF`], an upload that gets a pair of aligned buffers from the store's [`Pool`] is written
//! around the page cache instead ([`crate::direct`]), one buffer written while the other
//! fills.

use crate::direct::{BUF, Buf, Out, Pool};
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
    joined(tokio::task::spawn_blocking(f)).await
}

/// What blocking work gave, a panic or cancellation of it as an error.
async fn joined<T>(work: JoinHandle<io::Result<T>>) -> io::Result<T> {
    work.await.unwrap_or_else(|e| Err(io::Error::other(e)))
}

/// Creates `path` (it must not exist) and writes `body` to it under `cap` bytes, synced
/// before this returns. Returns the bytes written.
///
/// The body goes through the page cache, gathered, up to each [`BUF`] mark of the file; at
/// each mark the upload asks the pool for its buffers and, given them, goes on directly
/// ([`write_direct`]). So a file under one buffer never takes them from a large one.
pub(crate) async fn write_new(
    path: PathBuf,
    mut body: ByteStream<'_>,
    cap: u64,
    pool: &Arc<Pool>,
) -> Result<u64, BlobError> {
    let mut file = blocking(move || File::create_new(path))
        .await
        .map_err(crate::backend)?;
    let mut counter = CapCounter::new(cap);
    let mut batch: Vec<Bytes> = Vec::new();
    let mut gathered = 0;
    let mut total = 0u64;
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(BlobError::Source)?;
        counter.add(chunk.len())?;
        while !chunk.is_empty() {
            let to_mark = BUF - (total % BUF as u64) as usize;
            let head = chunk.split_to(to_mark.min(chunk.len()));
            total += head.len() as u64;
            gathered += head.len();
            batch.push(head);
            let at_mark = total.is_multiple_of(BUF as u64);
            if at_mark || gathered >= WRITE_BATCH || batch.len() >= WRITE_SLICES {
                let chunks = std::mem::take(&mut batch);
                file = blocking(move || write_chunks(&mut file, &chunks).map(|()| file))
                    .await
                    .map_err(crate::backend)?;
                gathered = 0;
            }
            if let Some(bufs) = at_mark.then(|| pool.take_pair()).flatten() {
                let out = Out::new(file, Arc::clone(pool), total);
                return write_direct(out, chunk, body, counter, bufs).await;
            }
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

/// The direct path from a [`BUF`] mark on: `first`, then the rest of the body, copied into
/// `bufs` in turn, each full one written on the blocking pool while the other fills.
async fn write_direct(
    out: Out,
    first: Bytes,
    mut body: ByteStream<'_>,
    mut counter: CapCounter,
    bufs: [Buf; 2],
) -> Result<u64, BlobError> {
    let [mut fill, spare] = bufs;
    let mut writer = Writer::Idle(out, spare);
    let mut next = Some(Ok(first));
    while let Some(chunk) = next {
        let chunk = chunk.map_err(BlobError::Source)?;
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            rest = &rest[fill.fill(rest)..];
            if fill.is_full() {
                let (mut out, mut spare) = writer.ready().await.map_err(crate::backend)?;
                spare.clear();
                let full = std::mem::replace(&mut fill, spare);
                writer = Writer::Busy(tokio::task::spawn_blocking(move || {
                    out.write_full(&full)?;
                    Ok((out, full))
                }));
            }
        }
        next = body.next().await;
        if let Some(Ok(chunk)) = &next {
            counter.add(chunk.len())?;
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
            Writer::Busy(write) => joined(write).await,
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
