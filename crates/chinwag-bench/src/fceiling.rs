//! The `files` scenario's ceiling: the same bytes written to and read from the same disk with
//! no server, in two ways, so that the better of them is the bar whichever way the server
//! goes.
//!
//! - Through the page cache: `CHUNK` writes (the client's chunk) then a sync; `CHUNK` reads.
//! - Around it (`O_DIRECT`, Linux), the way the server's file store moves large files, in
//!   the same sizes: writes of [`WRITE`] bytes from one aligned buffer, the tail through the
//!   page cache, then a sync; reads of [`READ`] bytes into one aligned buffer.
//!
//! Each way has its own files, so that neither reads what the other left cached.

use crate::fupload::CHUNK;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bytes of one direct write, and of one direct read: the server's file store's.
const WRITE: usize = chinwag_blob_fs::DIRECT_WRITE_BLOCK;
const READ: usize = chinwag_blob_fs::READ_CHUNK;
const ALIGN: usize = 4096;

fn path(dir: &Path, i: usize, direct: bool) -> PathBuf {
    dir.join(format!(
        "ceiling-{}{i}",
        if direct { "direct-" } else { "" }
    ))
}

/// A zeroed buffer with `len` bytes at an aligned address: the vector and where they start.
fn aligned(len: usize) -> (Vec<u8>, usize) {
    let v = vec![0u8; len + ALIGN];
    let start = v.as_ptr().align_offset(ALIGN).min(ALIGN);
    (v, start)
}

/// Writes file `i` of `size` bytes of `chunk`'s pattern through the page cache, synced.
pub(crate) fn write(dir: &Path, i: usize, size: u64, chunk: &[u8]) -> anyhow::Result<Duration> {
    let t = Instant::now();
    let mut f = File::create(path(dir, i, false))?;
    let mut left = size;
    while left > 0 {
        let k = left.min(CHUNK as u64) as usize;
        f.write_all(&chunk[..k])?;
        left -= k as u64;
    }
    f.sync_all()?;
    Ok(t.elapsed())
}

/// Writes the same file around the page cache, synced.
pub(crate) fn write_direct(
    dir: &Path,
    i: usize,
    size: u64,
    chunk: &[u8],
) -> anyhow::Result<Duration> {
    let (mut v, start) = aligned(WRITE);
    for (k, b) in v[start..start + WRITE].iter_mut().enumerate() {
        *b = chunk[k % CHUNK];
    }
    let buf = &v[start..start + WRITE];
    let p = path(dir, i, true);
    let t = Instant::now();
    let plain = File::create(&p)?;
    let direct = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(&p)?;
    let mut at = 0u64;
    while size - at >= WRITE as u64 {
        direct.write_all_at(buf, at)?;
        at += WRITE as u64;
    }
    plain.write_all_at(&buf[..(size - at) as usize], at)?;
    plain.sync_all()?;
    Ok(t.elapsed())
}

/// Reads file `i` back through the page cache.
pub(crate) fn read(dir: &Path, i: usize) -> anyhow::Result<Duration> {
    let mut buf = vec![0u8; CHUNK];
    let t = Instant::now();
    let mut f = File::open(path(dir, i, false))?;
    while f.read(&mut buf)? > 0 {}
    Ok(t.elapsed())
}

/// Reads the direct-written file `i` back around the page cache.
pub(crate) fn read_direct(dir: &Path, i: usize) -> anyhow::Result<Duration> {
    let (mut v, start) = aligned(READ);
    let buf = &mut v[start..start + READ];
    let t = Instant::now();
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path(dir, i, true))?;
    let mut at = 0u64;
    loop {
        let n = f.read_at(buf, at)?;
        at += n as u64;
        if n < READ {
            break;
        }
    }
    Ok(t.elapsed())
}
