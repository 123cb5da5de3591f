//! The conformance suite of the blob-store port ([`BlobStore`]): bytes round-trip whatever
//! the chunking (empty, one byte, 6 MB in odd chunks: more than one S3 part), the size cap at, under and over
//! its byte, a failed put leaving nothing, deletes of one blob and of a chat, blobs bound to
//! their chat, and ids unique and unguessable in form. Each run uses fresh chat ids, so a
//! shared bucket can run it again.

use bytes::Bytes;
use chinwag_core::ids::{BlobId, ChatId, FreshIds};
use chinwag_core::ports::{BlobError, BlobStore, ByteStream};
use futures_util::StreamExt;
use std::collections::HashSet;

/// Runs every check against `store`. Panics naming the broken rule.
pub async fn run_suite(store: &dyn BlobStore) {
    round_trips(store).await;
    cap_boundaries(store).await;
    failed_put_leaves_nothing(store).await;
    delete_one(store).await;
    delete_chat(store).await;
    bound_to_their_chat(store).await;
    ids_unique(store).await;
}

fn fresh_chat() -> ChatId {
    FreshIds::generate()
        .map(|ids| ids.chat_id)
        .unwrap_or_else(|e| panic!("no random chat id: {e}"))
}

/// `len` bytes of a repeatable pattern that differs from byte to byte and run to run of 256.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8)
        .collect()
}

/// `data` as a stream of chunks cycling through `sizes`.
fn chunked(data: &[u8], sizes: &[usize]) -> ByteStream<'static> {
    let mut chunks = Vec::new();
    let mut rest = data;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at((*size).min(rest.len()));
        chunks.push(Ok(Bytes::copy_from_slice(head)));
        rest = tail;
    }
    Box::pin(futures_util::stream::iter(chunks))
}

async fn read_all(store: &dyn BlobStore, chat: &ChatId, id: &BlobId) -> Vec<u8> {
    let read = store
        .get(chat, id)
        .await
        .unwrap_or_else(|e| panic!("get of a stored blob failed: {e}"));
    let mut out = Vec::new();
    let mut body = read.body;
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.unwrap_or_else(|e| panic!("reading a blob failed: {e}")));
    }
    assert_eq!(out.len() as u64, read.size, "get's size is the bytes read");
    out
}

async fn put(store: &dyn BlobStore, chat: &ChatId, data: &[u8], cap: u64) -> BlobId {
    let stored = store
        .put(chat, chunked(data, &[4093, 1, 65537, 7]), cap)
        .await
        .unwrap_or_else(|e| panic!("put of {} bytes under cap {cap} failed: {e}", data.len()));
    assert_eq!(
        stored.size,
        data.len() as u64,
        "put reports the size stored"
    );
    stored.id
}

async fn round_trips(store: &dyn BlobStore) {
    let chat = fresh_chat();
    let big = pattern(6 * 1024 * 1024 + 17);
    for (data, sizes) in [
        (Vec::new(), &[1][..]),
        (vec![0x5A], &[1][..]),
        (big.clone(), &[1, 7, 4093, 65537, 1_000_003][..]),
        (pattern(70_000), &[70_000][..]),
        // A power-of-two size: a store reading back in power-of-two chunks ends on a full one.
        (pattern(512 * 1024), &[65_536][..]),
    ] {
        let stored = store
            .put(&chat, chunked(&data, sizes), u64::MAX)
            .await
            .unwrap_or_else(|e| panic!("put of {} bytes failed: {e}", data.len()));
        assert_eq!(stored.size, data.len() as u64);
        let back = read_all(store, &chat, &stored.id).await;
        assert!(back == data, "{} bytes came back altered", data.len());
    }
    let listed = store.list(&chat).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed.len(), 5, "list shows every blob of the chat");
    assert!(listed.iter().any(|b| b.size == big.len() as u64));
}

async fn cap_boundaries(store: &dyn BlobStore) {
    let chat = fresh_chat();
    let cap = 100_000u64;
    put(store, &chat, &pattern(99_999), cap).await;
    let at = put(store, &chat, &pattern(100_000), cap).await;
    assert_eq!(read_all(store, &chat, &at).await, pattern(100_000));
    for over in [100_001usize, 250_000] {
        match store
            .put(&chat, chunked(&pattern(over), &[4093, 1]), cap)
            .await
        {
            Err(BlobError::TooLarge { cap: c }) => assert_eq!(c, cap),
            other => panic!("{over} bytes under cap {cap} gave {other:?}"),
        }
    }
    // Past the cap inside one chunk; and a zero cap takes only an empty body.
    let one_chunk = store.put(&chat, chunked(&pattern(150_000), &[150_000]), cap);
    assert!(matches!(one_chunk.await, Err(BlobError::TooLarge { .. })));
    put(store, &chat, &[], 0).await;
    let zero = store.put(&chat, chunked(&[1], &[1]), 0).await;
    assert!(matches!(zero, Err(BlobError::TooLarge { cap: 0 })));
    let listed = store.list(&chat).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed.len(), 3, "refused puts store nothing: {listed:?}");
}

async fn failed_put_leaves_nothing(store: &dyn BlobStore) {
    let chat = fresh_chat();
    let chunks: Vec<std::io::Result<Bytes>> = vec![
        Ok(Bytes::from(pattern(10_000))),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    let failed = store
        .put(
            &chat,
            Box::pin(futures_util::stream::iter(chunks)),
            u64::MAX,
        )
        .await;
    assert!(
        matches!(failed, Err(BlobError::Source(_))),
        "a failing body fails the put: {failed:?}"
    );
    let over = store
        .put(&chat, chunked(&pattern(5000), &[1000]), 4999)
        .await;
    assert!(matches!(over, Err(BlobError::TooLarge { .. })));
    let listed = store.list(&chat).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(listed.is_empty(), "failed puts left {listed:?}");
}

async fn delete_one(store: &dyn BlobStore) {
    let chat = fresh_chat();
    let gone = put(store, &chat, b"to delete", 100).await;
    let kept = put(store, &chat, b"to keep", 100).await;
    assert!(
        store
            .delete(&chat, &gone)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    );
    assert!(matches!(
        store.get(&chat, &gone).await,
        Err(BlobError::NotFound)
    ));
    assert!(
        !store
            .delete(&chat, &gone)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        "a second delete finds nothing"
    );
    assert_eq!(read_all(store, &chat, &kept).await, b"to keep");
    let never = BlobId::generate().unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        store.get(&chat, &never).await,
        Err(BlobError::NotFound)
    ));
}

async fn delete_chat(store: &dyn BlobStore) {
    let (ended, other) = (fresh_chat(), fresh_chat());
    for i in 0..3u8 {
        put(store, &ended, &[i; 10], 100).await;
    }
    let kept = put(store, &other, b"other chat", 100).await;
    let count = store
        .delete_chat(&ended)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(count, 3, "delete_chat counts what it deleted");
    assert!(
        store
            .list(&ended)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_empty()
    );
    assert_eq!(read_all(store, &other, &kept).await, b"other chat");
    let again = store
        .delete_chat(&ended)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, 0, "deleting an empty chat deletes nothing");
    // The chat can have files again afterwards.
    put(store, &ended, b"new", 100).await;
    // A chat whose id extends another's is a different chat.
    let longer = ChatId::new(format!("{ended}X"));
    let kept = put(store, &longer, b"longer id", 100).await;
    assert_eq!(store.list(&ended).await.map(|l| l.len()).unwrap_or(99), 1);
    assert_eq!(store.delete_chat(&ended).await.unwrap_or(99), 1);
    assert_eq!(read_all(store, &longer, &kept).await, b"longer id");
}

async fn bound_to_their_chat(store: &dyn BlobStore) {
    let (owner, stranger) = (fresh_chat(), fresh_chat());
    let id = put(store, &owner, b"private", 100).await;
    assert!(
        matches!(store.get(&stranger, &id).await, Err(BlobError::NotFound)),
        "another chat's id must not be readable"
    );
    assert!(
        !store
            .delete(&stranger, &id)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        "another chat's id must not be deletable"
    );
    assert_eq!(store.delete_chat(&stranger).await.unwrap_or(99), 0);
    assert_eq!(read_all(store, &owner, &id).await, b"private");
    for bad in ["../x", "", "a/b", "a.b", &"x".repeat(65)] {
        let chat = ChatId::new(bad);
        assert!(
            matches!(store.get(&chat, &id).await, Err(BlobError::BadChat)),
            "chat id {bad:?} must be refused as a key"
        );
        let put = store.put(&chat, chunked(b"x", &[1]), 10).await;
        assert!(matches!(put, Err(BlobError::BadChat)), "{bad:?}");
    }
}

async fn ids_unique(store: &dyn BlobStore) {
    let chat = fresh_chat();
    let mut seen = HashSet::new();
    for _ in 0..40 {
        let id = put(store, &chat, b"same bytes", 100).await;
        assert_eq!(id.as_str().len(), BlobId::LEN, "ids carry 128 bits");
        assert!(seen.insert(id), "a blob id was handed out twice");
    }
}
