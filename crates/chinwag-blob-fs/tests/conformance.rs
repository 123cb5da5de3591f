//! The filesystem blob store against the blob-store conformance suite, and what only a
//! filesystem shows: no part file left by a failed or dropped put, leftovers of a crash
//! removed at open, files where the data dir says.

use bytes::Bytes;
use chinwag_blob_fs::FsBlobStore;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::{BlobStore, ByteStream};
use futures_util::StreamExt;
use std::path::Path;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn all_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for chat in std::fs::read_dir(root).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(chat.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push(file.file_name().to_string_lossy().into_owned());
        }
    }
    out
}

#[tokio::test]
async fn passes_the_blob_conformance_suite() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = FsBlobStore::open(dir.path().join("files")).await?;
    chinwag_store_conformance::blobs::run_suite(&store).await;
    let names = all_files(&dir.path().join("files"));
    assert!(!names.is_empty());
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "no part file left behind: {names:?}"
    );
    Ok(())
}

#[tokio::test]
async fn files_live_under_the_chat_and_failed_puts_leave_no_part_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = FsBlobStore::open(dir.path()).await?;
    let chat = ChatId::new("AbCdEf0123456789");
    let body: ByteStream<'static> = Box::pin(futures_util::stream::iter(vec![Ok(
        Bytes::from_static(b"hello"),
    )]));
    let stored = store.put(&chat, body, 5).await?;
    let path = dir.path().join(chat.as_str()).join(stored.id.as_str());
    assert_eq!(std::fs::read(&path)?, b"hello");

    let too_big: ByteStream<'static> = Box::pin(futures_util::stream::iter(vec![Ok(
        Bytes::from_static(b"hello!"),
    )]));
    assert!(store.put(&chat, too_big, 5).await.is_err());
    assert_eq!(all_files(dir.path()), vec![stored.id.to_string()]);
    Ok(())
}

#[tokio::test]
async fn a_dropped_put_leaves_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = FsBlobStore::open(dir.path()).await?;
    let chat = ChatId::new("dropped");
    // A body that yields one chunk, says when the next is asked for (the first was
    // written), and then never ends: the client stalls.
    let (asked, waiting) = tokio::sync::oneshot::channel::<()>();
    let stalled: ByteStream<'static> = Box::pin(
        futures_util::stream::iter(vec![Ok(Bytes::from_static(b"partial"))]).chain(
            futures_util::stream::once(async move {
                let _ = asked.send(());
                futures_util::future::pending::<std::io::Result<Bytes>>().await
            }),
        ),
    );
    let mut put = Box::pin(store.put(&chat, stalled, 1000));
    tokio::select! {
        done = &mut put => panic!("the stalled put finished: {done:?}"),
        _ = waiting => {}
    }
    assert_eq!(
        all_files(dir.path()).len(),
        1,
        "the part file exists mid-put"
    );
    drop(put);
    assert!(
        all_files(dir.path()).is_empty(),
        "dropping the put removed its part file: {:?}",
        all_files(dir.path())
    );
    Ok(())
}

#[tokio::test]
async fn open_removes_what_a_crash_left() -> TestResult {
    let dir = tempfile::tempdir()?;
    let chat_dir = dir.path().join("chat1");
    std::fs::create_dir_all(&chat_dir)?;
    std::fs::write(chat_dir.join(".part-0123"), b"half")?;
    std::fs::write(chat_dir.join("00112233445566778899AABBCCDDEEFF"), b"whole")?;
    let store = FsBlobStore::open(dir.path()).await?;
    assert_eq!(
        all_files(dir.path()),
        vec!["00112233445566778899AABBCCDDEEFF".to_owned()]
    );
    assert_eq!(store.list(&ChatId::new("chat1")).await?.len(), 1);
    Ok(())
}
