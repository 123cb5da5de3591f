//! Large uploads written around the page cache (`O_DIRECT`, Linux), and what direct reads
//! ([`crate::read`]) share with them: alignment, and the store's switch for direct I/O.
//!
//! Receiving an upload costs the server's CPU one copy out of the socket and, through the
//! page cache, a second one into the kernel's pages (which it must also allocate and later
//! write back). With `O_DIRECT` the device takes the bytes from the process's own buffer, so
//! that second copy leaves the CPU. The price is alignment: the body is copied (in user
//! space, into a buffer that stays warm) into one of two aligned buffers of [`BUF`] bytes, and
//! each full one is written while the other fills.
//!
//! Those buffers come from a [`Pool`] shared by the store and bounded by [`POOL_UPLOADS`]
//! uploads' worth, kept for reuse once made. An upload asks for them each time its file
//! reaches a multiple of [`BUF`] (so a small file never holds them) and, until it gets them,
//! goes on through the page cache ([`crate::io`]); its last, partial buffer goes through the
//! cache too. One handle serves both ways, `O_DIRECT` switched on and off with `fcntl`, so
//! the direct path costs no extra file descriptor. A filesystem that refuses `O_DIRECT`
//! turns direct I/O off for the store, with one warning; the transfer in progress carries on
//! through the page cache from where it was.

use rustix::io::Errno;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes of one direct write: large enough that the per-write costs (a hand-off to the
/// blocking pool, a request to the device) are small per byte, small enough that
/// [`POOL_UPLOADS`] uploads' two buffers stay a few MiB. Measured on the `files` scenario:
/// 256 KiB cost the server 0.40–0.49 s of CPU per 500 MiB uploaded, 1 MiB 0.22–0.30 s.
pub const BUF: usize = 1024 * 1024;
/// The address and length alignment direct writes are given: the largest logical block size
/// in common use, so that 512-byte and 4 KiB devices both take them.
pub(crate) const ALIGN: usize = 4096;
/// Uploads written directly at once (2 MiB of buffers each); the rest go through the page
/// cache. One: with two, a hundred 50 MiB uploads at once peaked at up to 64.4 MiB above idle
/// (the goal is under 64), against 46.5–51.4 with none; and where many uploads run at once
/// the disk, not the CPU, sets their pace.
pub(crate) const POOL_UPLOADS: usize = 1;

/// Aligned buffers for direct writes, made on demand up to a bound and then reused.
#[derive(Debug)]
pub(crate) struct Pool {
    free: Mutex<Spares>,
    on: AtomicBool,
}

#[derive(Debug, Default)]
struct Spares {
    vecs: Vec<Vec<u8>>,
    made: usize,
}

impl Pool {
    /// A pool whose direct path is on (`on`) or off from the start.
    pub(crate) fn new(on: bool) -> Arc<Self> {
        Arc::new(Self {
            free: Mutex::new(Spares::default()),
            on: AtomicBool::new(on),
        })
    }

    /// Two buffers for one upload, or `None` (direct writes off, or every buffer in use).
    pub(crate) fn take_pair(self: &Arc<Self>) -> Option<[Buf; 2]> {
        if !self.is_on() {
            return None;
        }
        let mut spares = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if spares.vecs.len() + (2 * POOL_UPLOADS - spares.made) < 2 {
            return None;
        }
        let mut one = || {
            spares.vecs.pop().unwrap_or_else(|| {
                spares.made += 1;
                vec![0; BUF + ALIGN]
            })
        };
        let (a, b) = (one(), one());
        drop(spares);
        Some([self.wrap(a), self.wrap(b)])
    }

    fn wrap(self: &Arc<Self>, vec: Vec<u8>) -> Buf {
        let start = aligned_start(&vec);
        Buf {
            vec,
            start,
            len: 0,
            pool: Arc::clone(self),
        }
    }

    /// Whether direct I/O is (still) on.
    pub(crate) fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Turns direct I/O off for good after the filesystem refused it.
    pub(crate) fn refuse(&self, e: &io::Error) {
        if self.on.swap(false, Ordering::Relaxed) {
            tracing::warn!(error = %e, "the file store's filesystem refuses O_DIRECT; files go through the page cache");
        }
    }
}

/// Where in `buf` (which has [`ALIGN`] bytes to spare) an aligned stretch starts.
pub(crate) fn aligned_start(buf: &[u8]) -> usize {
    // A `u8` pointer can always be aligned, at most ALIGN - 1 bytes on.
    buf.as_ptr().align_offset(ALIGN).min(ALIGN)
}

/// One aligned buffer of [`BUF`] bytes, back in its pool when dropped.
#[derive(Debug)]
pub(crate) struct Buf {
    vec: Vec<u8>,
    start: usize,
    len: usize,
    pool: Arc<Pool>,
}

impl Buf {
    /// Copies what fits of `data` in; returns how much did.
    pub(crate) fn fill(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(BUF - self.len);
        let at = self.start + self.len;
        self.vec[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == BUF
    }

    pub(crate) fn filled(&self) -> &[u8] {
        &self.vec[self.start..self.start + self.len]
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        let vec = std::mem::take(&mut self.vec);
        let mut spares = self.pool.free.lock().unwrap_or_else(|e| e.into_inner());
        spares.vecs.push(vec);
    }
}

/// The file an upload is written to, from a [`BUF`] mark on: one handle, with `O_DIRECT`
/// switched on for the full buffers and off for the last one.
#[derive(Debug)]
pub(crate) struct Out {
    file: File,
    direct: bool,
    offset: u64,
    pool: Arc<Pool>,
}

impl Out {
    /// `file`, already written up to `offset`.
    pub(crate) fn new(file: File, pool: Arc<Pool>, offset: u64) -> Self {
        Self {
            file,
            direct: false,
            offset,
            pool,
        }
    }

    /// Appends a full buffer, directly while the filesystem allows.
    pub(crate) fn write_full(&mut self, buf: &Buf) -> io::Result<()> {
        let data = buf.filled();
        if !self.direct && self.pool.is_on() {
            match set_direct(&self.file, true) {
                Ok(()) => self.direct = true,
                Err(e) if refused(&e) => self.pool.refuse(&e),
                // Any other failure: this buffer goes through the page cache.
                Err(_) => {}
            }
        }
        if self.direct {
            match self.file.write_all_at(data, self.offset) {
                Ok(()) => {
                    self.offset += data.len() as u64;
                    return Ok(());
                }
                // Written again below, whole, through the page cache.
                Err(e) if refused(&e) => {
                    self.pool.refuse(&e);
                    self.buffered()?;
                }
                Err(e) => return Err(e),
            }
        }
        self.append(data)
    }

    /// Appends the last, partial buffer through the page cache and makes the file durable
    /// (one `fsync` covers the direct writes too: it works on the file, not the handle).
    pub(crate) fn finish(mut self, buf: &Buf) -> io::Result<u64> {
        self.buffered()?;
        self.append(buf.filled())?;
        self.file.sync_all()?;
        Ok(self.offset)
    }

    fn buffered(&mut self) -> io::Result<()> {
        if self.direct {
            set_direct(&self.file, false)?;
            self.direct = false;
        }
        Ok(())
    }

    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, self.offset)?;
        self.offset += data.len() as u64;
        Ok(())
    }
}

/// Whether `e` says the filesystem does not do direct I/O (as opposed to a failing disk).
pub(crate) fn refused(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Unsupported
        || matches!(e.raw_os_error(), Some(code) if code == Errno::INVAL.raw_os_error() || code == Errno::OPNOTSUPP.raw_os_error())
}

/// Switches `O_DIRECT` on or off for `file`'s handle (one handle serves both ways, so a
/// transfer costs no second file descriptor).
#[cfg(target_os = "linux")]
pub(crate) fn set_direct(file: &File, on: bool) -> io::Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    let flags = if on {
        flags | OFlags::DIRECT
    } else {
        flags - OFlags::DIRECT
    };
    Ok(fcntl_setfl(file, flags)?)
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn set_direct(_: &File, on: bool) -> io::Result<()> {
    if on {
        Err(io::ErrorKind::Unsupported.into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[path = "direct_tests.rs"]
mod tests;
