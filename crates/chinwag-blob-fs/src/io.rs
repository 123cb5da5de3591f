//! The store's file I/O, shaped for the one-CPU case the server is tuned for: every blocking
//! call is a trip to tokio's blocking pool (a thread switch), so writes gather the body's
//! chunks, without copying them, into one vectored write of about [`WRITE_BATCH`] bytes, and
//! reads fill each chunk straight from the file in one call.
//!
//! A batch holds the chunks as they came ([`Bytes`] are reference-counted), so an upload
//! costs at most one batch of memory here, whatever the file's size.

use bytes::Bytes;
use chinwag_core::ports::{BlobError, ByteStream, CapCounter};
use futures_util::{Stream, StreamExt};
use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::path::PathBuf;

/// Bytes gathered before one write.
pub(crate) const WRITE_BATCH: usize = 64 * 1024;
/// Chunks gathered before one write, whatever their size (a bound on the vector's length).
const WRITE_SLICES: usize = 256;
/// Bytes of one chunk read back.
pub(crate) const READ_CHUNK: usize = 256 * 1024;

/// Runs blocking `f` on the blocking pool.
async fn blocking<T: Send + 'static>(
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
    mut body: ByteStream<'_>,
    cap: u64,
) -> Result<u64, BlobError> {
    let mut file = blocking(move || File::create_new(path))
        .await
        .map_err(crate::backend)?;
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

/// `file` as a stream of chunks of up to [`READ_CHUNK`] bytes, each read straight into the
/// buffer it is sent in.
pub(crate) fn read_stream(file: File) -> impl Stream<Item = io::Result<Bytes>> + Send {
    futures_util::stream::try_unfold(Some(file), |file| async move {
        let Some(mut file) = file else {
            return Ok(None);
        };
        let (file, chunk) = blocking(move || {
            // Read into the spare capacity: no zeroing, no second copy.
            let mut buf = Vec::with_capacity(READ_CHUNK);
            (&mut file).take(READ_CHUNK as u64).read_to_end(&mut buf)?;
            Ok((file, Bytes::from(buf)))
        })
        .await?;
        if chunk.is_empty() {
            return Ok(None);
        }
        // A short chunk is the end: the next poll answers `None` without another read.
        let next = (chunk.len() == READ_CHUNK).then_some(file);
        Ok(Some((chunk, next)))
    })
}
