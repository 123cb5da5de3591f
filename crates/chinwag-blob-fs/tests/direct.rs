//! Large files bypass the page cache both ways, and small ones (or a store with direct I/O
//! off) do not: read off the kernel's own count of the file's cached pages (`fincore`, from
//! util-linux), on a real filesystem under the target directory.

use bytes::Bytes;
use chinwag_blob_fs::FsBlobStore;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::{BlobStore, ByteStream};
use futures_util::StreamExt;
use std::path::Path;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// `data` in chunks of 7,777 bytes: nothing a direct write could take as it comes.
fn body(data: &[u8]) -> ByteStream<'static> {
    let chunks: Vec<std::io::Result<Bytes>> = data
        .chunks(7777)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures_util::stream::iter(chunks))
}

/// Bytes of `path` in the page cache.
fn cached(path: &Path) -> Result<u64, Box<dyn std::error::Error>> {
    let out = std::process::Command::new("fincore")
        .args(["--bytes", "--noheadings", "--output", "RES"])
        .arg(path)
        .output()?;
    assert!(out.status.success(), "fincore: {out:?}");
    Ok(String::from_utf8(out.stdout)?.trim().parse()?)
}

/// Stores `data` and reads it back; the bytes cached after the write and after the read.
async fn round_trip(
    store: &FsBlobStore,
    root: &Path,
    data: &[u8],
) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    let chat = ChatId::new("direct");
    let stored = store.put(&chat, body(data), u64::MAX).await?;
    let path = root.join(chat.as_str()).join(stored.id.as_str());
    let after_write = cached(&path)?;
    let mut read = store.get(&chat, &stored.id).await?;
    let mut back = Vec::new();
    while let Some(chunk) = read.body.next().await {
        back.extend_from_slice(&chunk?);
    }
    assert!(back == data, "{} bytes came back altered", data.len());
    Ok((after_write, cached(&path)?))
}

#[tokio::test]
async fn large_files_bypass_the_page_cache_and_small_ones_do_not() -> TestResult {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))?;
    let store = FsBlobStore::open(dir.path()).await?;
    // Three direct writes of 1 MiB, then 1,000 bytes through the cache.
    let large = pattern(3 * 1024 * 1024 + 1000);
    let (written, read) = round_trip(&store, dir.path(), &large).await?;
    assert!(
        written <= 8192,
        "only the tail is cached after the write: {written} bytes"
    );
    assert!(read <= 8192, "a direct read caches nothing: {read} bytes");

    let small = pattern(300_000);
    let (written, read) = round_trip(&store, dir.path(), &small).await?;
    assert!(
        written >= 300_000 && read >= 300_000,
        "a small file is cached: {written}, {read}"
    );
    Ok(())
}

#[tokio::test]
async fn with_direct_io_off_every_byte_goes_through_the_cache() -> TestResult {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))?;
    let store = FsBlobStore::open(dir.path()).await?.with_direct_io(false);
    let large = pattern(3 * 1024 * 1024 + 1000);
    let (written, read) = round_trip(&store, dir.path(), &large).await?;
    let size = large.len() as u64;
    assert!(
        written >= size && read >= size,
        "cached: {written}, {read} of {size}"
    );
    Ok(())
}
