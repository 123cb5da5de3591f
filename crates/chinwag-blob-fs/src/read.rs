//! Reading a stored file back as a stream of chunks of [`CHUNK`] bytes, each read in one call
//! on the blocking pool straight into the buffer it is sent in.
//!
//! Files of [`DIRECT_MIN`] bytes or more are read around the page cache (`O_DIRECT`) where the
//! filesystem allows: a download is read once, so caching it only costs the CPU a copy out of
//! freshly filled pages (the larger part of a cold download's CPU, measured) and evicts what
//! other files had cached. Smaller files, which the widget may fetch again, go through the
//! cache. A direct read refused, or cut short before the end, switches the handle back to the
//! page cache for the rest, so a file is always read whole; reading stops at the size the
//! file had when opened, and a file found shorter ends the stream with an error.

use crate::direct::{self, ALIGN, Pool};
use crate::io::blocking;
use bytes::Bytes;
use futures_util::Stream;
use std::fs::File;
use std::io::{self, Read, Seek};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

/// Bytes of one chunk read back (a multiple of [`ALIGN`]).
pub const CHUNK: usize = 256 * 1024;
/// Files this large or larger are read directly.
pub(crate) const DIRECT_MIN: u64 = 1024 * 1024;

/// An open stored file and where its reading stands.
#[derive(Debug)]
pub(crate) struct Reader {
    file: File,
    /// Whether `O_DIRECT` is on for `file`.
    direct: bool,
    size: u64,
    offset: u64,
    pool: Arc<Pool>,
}

impl Reader {
    /// Opens `path` (blocking), with `O_DIRECT` when it is large and direct I/O is on.
    pub(crate) fn open(path: &Path, pool: Arc<Pool>) -> io::Result<Self> {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        let mut direct = false;
        if size >= DIRECT_MIN && pool.is_on() {
            match direct::set_direct(&file, true) {
                Ok(()) => direct = true,
                Err(e) if direct::refused(&e) => pool.refuse(&e),
                // Any other failure: this file is read through the page cache.
                Err(_) => {}
            }
        }
        Ok(Self {
            file,
            direct,
            size,
            offset: 0,
            pool,
        })
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The next chunk, never past the size `open` found; a file found shorter is an error.
    fn next_chunk(&mut self) -> io::Result<Bytes> {
        let left = self.size - self.offset;
        if self.direct {
            // Room for CHUNK bytes at an aligned address; read straight into it.
            let mut buf = vec![0; CHUNK + ALIGN];
            let start = direct::aligned_start(&buf);
            match self
                .file
                .read_at(&mut buf[start..start + CHUNK], self.offset)
            {
                // Nothing before the end: the page cache finds out why.
                Ok(0) if left > 0 => self.buffered()?,
                Ok(n) => {
                    let n = n.min(usize::try_from(left).unwrap_or(usize::MAX));
                    self.offset += n as u64;
                    if n < CHUNK && self.offset < self.size {
                        // Short of the end: the rest through the page cache.
                        self.buffered()?;
                    }
                    return Ok(Bytes::from(buf).slice(start..start + n));
                }
                Err(e) if direct::refused(&e) => {
                    self.pool.refuse(&e);
                    self.buffered()?;
                }
                Err(e) => return Err(e),
            }
        }
        // Into the spare capacity: no zeroing, no second copy.
        let want = left.min(CHUNK as u64);
        let mut buf = Vec::with_capacity(want as usize);
        (&mut self.file).take(want).read_to_end(&mut buf)?;
        if (buf.len() as u64) < want {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.offset += buf.len() as u64;
        Ok(Bytes::from(buf))
    }

    /// Goes on from `offset` through the page cache.
    fn buffered(&mut self) -> io::Result<()> {
        direct::set_direct(&self.file, false)?;
        self.direct = false;
        self.file.seek(io::SeekFrom::Start(self.offset)).map(drop)
    }
}

/// `reader`'s file as a stream of chunks, up to the size it had when opened.
pub(crate) fn read_stream(reader: Reader) -> impl Stream<Item = io::Result<Bytes>> + Send {
    futures_util::stream::try_unfold(Some(reader), |reader| async move {
        let Some(mut reader) = reader else {
            return Ok(None);
        };
        let (reader, chunk) = blocking(move || {
            let chunk = reader.next_chunk()?;
            Ok((reader, chunk))
        })
        .await?;
        if chunk.is_empty() {
            return Ok(None);
        }
        // At the size `open` found, the next poll answers `None` without another read.
        let next = (reader.offset < reader.size).then_some(reader);
        Ok(Some((chunk, next)))
    })
}
