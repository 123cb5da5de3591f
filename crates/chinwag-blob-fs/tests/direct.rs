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

const MIB: usize = 1024 * 1024;

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

/// A store in a directory of its own under the target directory (a real disk filesystem,
/// where `/tmp` may not be).
async fn fresh_store() -> Result<(tempfile::TempDir, FsBlobStore), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))?;
    let store = FsBlobStore::open(dir.path()).await?;
    Ok((dir, store))
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
    let (dir, store) = fresh_store().await?;
    // The first MiB through the cache (a file is only known to be large past it), two direct
    // writes of 1 MiB, then 1,000 bytes through the cache again.
    let large = pattern(3 * MIB + 1000);
    let (written, read) = round_trip(&store, dir.path(), &large).await?;
    assert!(
        written <= MIB as u64 + 8192,
        "only the first MiB and the tail are cached: {written} bytes"
    );
    assert!(
        read <= MIB as u64 + 8192,
        "a direct read caches nothing more: {read} bytes"
    );

    let small = pattern(300_000);
    let (written, read) = round_trip(&store, dir.path(), &small).await?;
    assert!(
        written >= 300_000 && read >= 300_000,
        "a small file is cached: {written}, {read}"
    );
    Ok(())
}

#[tokio::test]
async fn a_small_upload_in_progress_leaves_the_direct_path_to_a_large_one() -> TestResult {
    let (dir, store) = fresh_store().await?;
    // Four bytes, then a client that never sends the rest.
    let stalled: ByteStream<'static> = Box::pin(
        futures_util::stream::iter(vec![Ok(Bytes::from_static(b"tiny"))])
            .chain(futures_util::stream::pending()),
    );
    let chat = ChatId::new("stalled");
    let mut small = Box::pin(store.put(&chat, stalled, u64::MAX));
    tokio::select! {
        done = &mut small => panic!("the stalled put finished: {done:?}"),
        () = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
    }
    let (written, _) = round_trip(&store, dir.path(), &pattern(3 * MIB)).await?;
    assert!(
        written <= MIB as u64 + 8192,
        "the large file went direct: {written} bytes cached"
    );
    drop(small);
    Ok(())
}

#[tokio::test]
async fn with_direct_io_off_every_byte_goes_through_the_cache() -> TestResult {
    let (dir, store) = fresh_store().await?;
    let store = store.with_direct_io(false);
    let large = pattern(3 * MIB + 1000);
    let (written, read) = round_trip(&store, dir.path(), &large).await?;
    let size = large.len() as u64;
    assert!(
        written >= size && read >= size,
        "cached: {written}, {read} of {size}"
    );
    Ok(())
}

#[tokio::test]
async fn a_read_gives_the_size_it_announced_or_an_error() -> TestResult {
    let (dir, store) = fresh_store().await?;
    let chat = ChatId::new("changed");
    for (grow, size) in [
        (true, 2 * MIB),
        (false, 2 * MIB),
        (true, 5000),
        (false, 5000),
    ] {
        let stored = store.put(&chat, body(&pattern(size)), u64::MAX).await?;
        let path = dir.path().join(chat.as_str()).join(stored.id.as_str());
        let read = store.get(&chat, &stored.id).await?;
        let file = std::fs::OpenOptions::new().write(true).open(&path)?;
        file.set_len(if grow {
            size as u64 + 5000
        } else {
            size as u64 / 2
        })?;
        let chunks: Vec<_> = read.body.collect().await;
        let got: usize = chunks.iter().flatten().map(Bytes::len).sum();
        if grow {
            assert!(chunks.iter().all(Result::is_ok), "a grown file reads fine");
            assert_eq!(got as u64, read.size, "no byte past the size announced");
        } else {
            assert!(
                chunks.iter().any(Result::is_err),
                "a shortened file of {size} ends in an error"
            );
        }
    }
    Ok(())
}
