//! File transfer through the role handles, on the in-memory stores with a manual clock:
//! every limit at its boundary, types judged by content, delete rules, download counting,
//! another chat's file, the scan hook, the race of two uploads for the last slot, and a
//! chat's files deleted once its retention is over.

use super::limits_tests::ManualClock;
use super::tests_shared_store::{creds_of, open_chat, settings};
use super::*;
use crate::files::{FileError, FileSettings};
use crate::ids::{AgentId, BlobId, QueueName};
use crate::memstore::{MemoryBlobs, MemoryStore};
use crate::ports::{BlobStore, ByteStream, FileScanner, ScanError, ScanVerdict};
use crate::roles::files::FileBody;
use crate::roles::{Agents, Customers};
use crate::settings::{AgentAccount, AgentRole};
use bytes::Bytes;
use std::sync::atomic::AtomicI64;

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const ELF: &[u8] = &[0x7F, b'E', b'L', b'F', 2, 1, 1, 0];
const RETENTION: i64 = 60_000;

/// A body of `len` bytes starting with `head` (padded with `x`), in chunks of 1000.
fn body(head: &[u8], len: usize) -> ByteStream<'static> {
    let mut all = head.to_vec();
    all.resize(len.max(head.len()), b'x');
    let chunks: Vec<std::io::Result<Bytes>> = all
        .chunks(1000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(Iter(chunks.into_iter(), false))
}

/// A stream of the chunks of an iterator that, like many real bodies, panics if polled
/// again after it ended.
struct Iter<I>(I, bool);
impl<I: Iterator<Item = std::io::Result<Bytes>> + Unpin> futures_core::Stream for Iter<I> {
    type Item = std::io::Result<Bytes>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        assert!(!self.1, "a body was polled after its end");
        let next = self.0.next();
        self.1 = next.is_none();
        std::task::Poll::Ready(next)
    }
}

/// A body that fails the test if it is ever read.
fn untouchable() -> ByteStream<'static> {
    Box::pin(Iter(
        std::iter::from_fn(|| panic!("the body was read")),
        false,
    ))
}

fn file(name: &str, head: &[u8], len: usize) -> FileBody<'static> {
    FileBody {
        name: name.into(),
        length: None,
        body: body(head, len),
    }
}

struct Rig {
    engine: Arc<ChatEngine>,
    blobs: Arc<MemoryBlobs>,
    clock: Arc<ManualClock>,
    customers: Customers,
    agents: Agents,
    agent: AgentId,
}

async fn rig(rules: FileSettings) -> Result<Rig, CoreError> {
    let mut s = settings(1);
    s.ended_retention_ms = RETENTION;
    s.services[0].limits.abandon_after_ms = None;
    s.services[0].files = rules;
    s.agents = vec![AgentAccount {
        id: AgentId::new("a1"),
        name: "Alice".into(),
        token: "tok".into(),
        queues: vec![QueueName::new("q")],
        capacity: 5,
        role: AgentRole::Agent,
    }];
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let engine = ChatEngine::open(s, Arc::new(MemoryStore::default()), clock.clone()).await?;
    let blobs = Arc::new(MemoryBlobs::new(64 << 20));
    engine.set_blobs(blobs.clone());
    let agents = engine.agents();
    let agent = agents.sign_in("tok")?;
    agents.login(&agent).await?;
    agents.set_ready(&agent, true).await?;
    Ok(Rig {
        customers: engine.customers(),
        agents,
        agent,
        engine,
        blobs,
        clock,
    })
}

fn rules() -> FileSettings {
    FileSettings {
        max_file_size: 2_000,
        max_files: 3,
        max_total_size: 5_000,
        file_types: "png:txt".into(),
        download_attempts: 2,
        need_agent: true,
        delete_gives_slot: true,
        enabled: true,
    }
}

impl Rig {
    /// A chat the agent accepted.
    async fn chat(&self) -> Result<ChatView, CoreError> {
        let view = open_chat(&self.engine, Selection::Nothing).await?;
        self.agents.accept(&self.agent, &view.chat_id).await?;
        Ok(view)
    }

    /// The customer uploads and announces a file: its id.
    async fn put(&self, chat: &ChatView, f: FileBody<'_>) -> Result<BlobId, CoreError> {
        let staged = self.customers.upload(creds_of(chat), f).await?;
        let (info, _) = self
            .customers
            .announce(
                creds_of(chat),
                staged,
                Some("invoice".into()),
                Default::default(),
            )
            .await?;
        Ok(info.id)
    }

    async fn used(&self, chat: &ChatView) -> Result<Vec<String>, CoreError> {
        let (data, _) = self.customers.file_limits(creds_of(chat)).await?;
        Ok([
            "used-upload-max-files",
            "used-upload-max-total-size",
            "used-download-attempts",
        ]
        .map(|k| data.get(k).cloned().unwrap_or_default())
        .to_vec())
    }
}

fn file_err(r: Result<impl std::fmt::Debug, CoreError>) -> FileError {
    match r {
        Err(CoreError::File(f)) => f,
        other => panic!("expected a file error, got {other:?}"),
    }
}

#[tokio::test]
async fn limits_are_strings_and_usage_follows_uploads() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    let (data, _) = r.customers.file_limits(creds_of(&chat)).await?;
    assert_eq!(
        data.get("upload-max-file-size").map(String::as_str),
        Some("2000")
    );
    assert_eq!(
        data.get("upload-file-types").map(String::as_str),
        Some("png:txt")
    );
    assert_eq!(
        data.get("upload-need-agent").map(String::as_str),
        Some("true")
    );
    assert_eq!(data.get("delete-file").map(String::as_str), Some("true"));
    assert_eq!(data.len(), 10, "{data:?}");
    r.put(&chat, file("a.png", PNG, 700)).await?;
    assert_eq!(r.used(&chat).await?, ["1", "700", "0"]);
    Ok(())
}

#[tokio::test]
async fn the_file_size_cap_holds_at_its_byte() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    r.put(&chat, file("max.png", PNG, 2_000)).await?;
    let over = r.put(&chat, file("over.png", PNG, 2_001)).await;
    assert!(matches!(
        file_err(over),
        FileError::FileTooLarge { max: 2_000 }
    ));
    let announced = FileBody {
        name: "big.png".into(),
        length: Some(2_001),
        body: untouchable(),
    };
    let early = r.customers.upload(creds_of(&chat), announced).await;
    assert!(
        matches!(file_err(early), FileError::FileTooLarge { .. }),
        "refused unread"
    );
    assert_eq!(
        r.blobs
            .list(&chat.chat_id)
            .await
            .map_err(|_| CoreError::Random)?
            .len(),
        1
    );
    Ok(())
}

#[tokio::test]
async fn the_total_and_the_count_hold_and_delete_gives_a_slot_back() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    let a = r.put(&chat, file("a.png", PNG, 2_000)).await?;
    r.put(&chat, file("b.png", PNG, 2_000)).await?;
    // 1,000 bytes left of 5,000: 1,001 is refused with the total as advice.
    let over = r.put(&chat, file("c.png", PNG, 1_001)).await;
    assert!(matches!(
        file_err(over),
        FileError::TotalTooLarge { max: 5_000 }
    ));
    r.put(&chat, file("c.png", PNG, 1_000)).await?;
    let fourth = r.put(&chat, file("d.txt", b"hi", 2)).await;
    assert!(matches!(
        file_err(fourth),
        FileError::TooManyFiles { max: 3 }
    ));
    r.customers.delete_file(creds_of(&chat), &a).await?;
    assert_eq!(
        r.used(&chat).await?[0],
        "2",
        "delete-file gives the slot back"
    );
    let total = r.put(&chat, file("d.txt", b"hi", 2)).await;
    assert!(
        matches!(file_err(total), FileError::TotalTooLarge { .. }),
        "but not the bytes"
    );
    Ok(())
}

#[tokio::test]
async fn without_delete_file_a_delete_keeps_its_slot() -> Result<(), CoreError> {
    let r = rig(FileSettings {
        max_files: 1,
        delete_gives_slot: false,
        ..rules()
    })
    .await?;
    let chat = r.chat().await?;
    let a = r.put(&chat, file("a.txt", b"one", 3)).await?;
    r.customers.delete_file(creds_of(&chat), &a).await?;
    let again = r.put(&chat, file("b.txt", b"two", 3)).await;
    assert!(matches!(
        file_err(again),
        FileError::TooManyFiles { max: 1 }
    ));
    Ok(())
}

#[tokio::test]
async fn content_decides_the_type_not_the_name() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    let exe = r.put(&chat, file("photo.png", ELF, 100)).await;
    assert!(matches!(file_err(exe), FileError::TypeNotAllowed { .. }));
    let pdf = r.put(&chat, file("a.png", b"%PDF-1.7", 100)).await;
    assert!(
        matches!(file_err(pdf), FileError::TypeNotAllowed { .. }),
        "pdf not allowed here"
    );
    let id = r.put(&chat, file("../../etc/passwd", b"hello", 5)).await?;
    let (info, _) = r.customers.download(creds_of(&chat), &id).await?;
    assert_eq!(
        (info.name.as_str(), info.mime.as_str()),
        ("passwd.txt", "text/plain; charset=utf-8")
    );
    assert!(
        r.blobs
            .list(&chat.chat_id)
            .await
            .map_err(|_| CoreError::Random)?
            .len()
            == 1
    );
    Ok(())
}

#[tokio::test]
async fn uploads_wait_for_an_agent_when_the_service_says_so() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let waiting = open_chat(&r.engine, Selection::Nothing).await?;
    let early = r.put(&waiting, file("a.txt", b"hi", 2)).await;
    assert!(matches!(file_err(early), FileError::NeedAgent));
    r.agents.accept(&r.agent, &waiting.chat_id).await?;
    r.put(&waiting, file("a.txt", b"hi", 2)).await?;
    let free = rig(FileSettings {
        need_agent: false,
        ..rules()
    })
    .await?;
    let alone = open_chat(&free.engine, Selection::Nothing).await?;
    free.put(&alone, file("a.txt", b"hi", 2)).await?;
    Ok(())
}

#[tokio::test]
async fn downloads_are_counted_for_the_customer_only() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    let id = r.put(&chat, file("a.txt", b"bytes", 5)).await?;
    for _ in 0..2 {
        r.customers.download(creds_of(&chat), &id).await?;
    }
    let third = r.customers.download(creds_of(&chat), &id).await;
    assert!(matches!(
        file_err(third),
        FileError::DownloadsUsed { max: 2 }
    ));
    assert_eq!(r.used(&chat).await?[2], "2");
    for _ in 0..3 {
        r.agents.download(&r.agent, &chat.chat_id, &id).await?;
    }
    Ok(())
}

#[tokio::test]
async fn customers_delete_only_their_own_files_and_agents_any() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    let theirs = r
        .agents
        .upload(
            &r.agent,
            &chat.chat_id,
            file("t.txt", b"terms", 5),
            None,
            Default::default(),
        )
        .await?;
    let refused = r.customers.delete_file(creds_of(&chat), &theirs.id).await;
    assert!(matches!(file_err(refused), FileError::NotYours));
    let mine = r.put(&chat, file("m.txt", b"mine", 4)).await?;
    r.agents.delete_file(&r.agent, &chat.chat_id, &mine).await?;
    let gone = r.customers.download(creds_of(&chat), &mine).await;
    assert!(matches!(file_err(gone), FileError::NotFound));
    let listed: Vec<_> = r.agents.files(&r.agent, &chat.chat_id).await?;
    assert_eq!(
        listed.iter().map(|f| &f.id).collect::<Vec<_>>(),
        [&theirs.id]
    );
    assert_eq!(
        r.blobs
            .list(&chat.chat_id)
            .await
            .map_err(|_| CoreError::Random)?
            .len(),
        1
    );
    let all = r
        .customers
        .read(creds_of(&chat), Selection::From(crate::ids::EventIndex(1)))
        .await?;
    let kinds: Vec<_> = all.events.iter().map(|e| e.kind).collect();
    assert!(kinds.ends_with(&[
        crate::event::EventKind::FileUploaded,
        crate::event::EventKind::FileDeleted
    ]));
    let deleted = all.events.last().and_then(|e| e.user_data.as_deref());
    assert_eq!(
        deleted.and_then(|d| d.get("file-id")),
        Some(&mine.to_string())
    );
    Ok(())
}

#[tokio::test]
async fn another_chats_file_is_not_found() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let (one, two) = (r.chat().await?, r.chat().await?);
    let id = r.put(&one, file("a.txt", b"secret", 6)).await?;
    let other = r.customers.download(creds_of(&two), &id).await;
    assert!(matches!(file_err(other), FileError::NotFound));
    let delete = r.customers.delete_file(creds_of(&two), &id).await;
    assert!(matches!(file_err(delete), FileError::NotFound));
    let staged = r
        .customers
        .upload(creds_of(&one), file("b.txt", b"x", 1))
        .await?;
    let moved = r
        .customers
        .announce(creds_of(&two), staged, None, Default::default())
        .await;
    assert!(
        matches!(file_err(moved), FileError::NotFound),
        "a staged file stays in its chat"
    );
    Ok(())
}

#[tokio::test]
async fn two_uploads_racing_for_the_last_slot_announce_one() -> Result<(), CoreError> {
    let r = rig(FileSettings {
        max_files: 1,
        ..rules()
    })
    .await?;
    let chat = r.chat().await?;
    let a = r
        .customers
        .upload(creds_of(&chat), file("a.txt", b"a", 1))
        .await?;
    let b = r
        .customers
        .upload(creds_of(&chat), file("b.txt", b"b", 1))
        .await?;
    r.customers
        .announce(creds_of(&chat), a, None, Default::default())
        .await?;
    let late = r
        .customers
        .announce(creds_of(&chat), b, None, Default::default())
        .await;
    assert!(matches!(file_err(late), FileError::TooManyFiles { max: 1 }));
    assert_eq!(
        r.blobs
            .list(&chat.chat_id)
            .await
            .map_err(|_| CoreError::Random)?
            .len(),
        1,
        "the loser's bytes deleted"
    );
    Ok(())
}

struct Scanner(Option<ScanVerdict>);

#[async_trait::async_trait]
impl FileScanner for Scanner {
    async fn scan(&self, mut body: ByteStream<'static>, _: u64) -> Result<ScanVerdict, ScanError> {
        let mut seen = Vec::new();
        while let Some(c) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            seen.extend_from_slice(&c.map_err(|e| ScanError(e.to_string()))?);
        }
        match &self.0 {
            Some(ScanVerdict::Rejected(_)) if seen.windows(5).any(|w| w == b"EVIL!") => {
                Ok(ScanVerdict::Rejected("Test.Sig".into()))
            }
            Some(_) => Ok(ScanVerdict::Clean),
            None => Err(ScanError("scanner down".into())),
        }
    }
}

#[tokio::test]
async fn the_scan_hook_rejects_before_anyone_sees_the_file() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    r.engine.set_scanner(Arc::new(Scanner(Some(
        ScanVerdict::Rejected(String::new()),
    ))));
    let chat = r.chat().await?;
    let bad = r.put(&chat, file("a.txt", b"hello EVIL! there", 17)).await;
    assert!(matches!(file_err(bad), FileError::Rejected(ref s) if s == "Test.Sig"));
    assert!(
        r.blobs
            .list(&chat.chat_id)
            .await
            .map_err(|_| CoreError::Random)?
            .is_empty()
    );
    r.put(&chat, file("b.txt", b"hello there", 11)).await?;
    let down = rig(rules()).await?;
    down.engine.set_scanner(Arc::new(Scanner(None)));
    let chat = down.chat().await?;
    let failed = down.put(&chat, file("a.txt", b"hello", 5)).await;
    assert!(
        matches!(file_err(failed), FileError::ScanFailed),
        "fail closed"
    );
    assert!(
        down.blobs
            .list(&chat.chat_id)
            .await
            .map_err(|_| CoreError::Random)?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn a_chats_files_go_once_its_retention_is_over() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    r.put(&chat, file("a.txt", b"keep me", 7)).await?;
    let count = || async {
        r.blobs
            .list(&chat.chat_id)
            .await
            .map(|l| l.len())
            .map_err(|_| CoreError::Random)
    };
    r.clock.0.fetch_add(RETENTION + 1, Ordering::Relaxed);
    r.engine.fire_timers().await;
    assert_eq!(count().await?, 1, "an open chat keeps its files");
    r.clock.0.fetch_add(RETENTION / 2, Ordering::Relaxed);
    r.customers
        .act(
            creds_of(&chat),
            crate::roles::customers::CustomerOp::Disconnect,
            Selection::Nothing,
        )
        .await?;
    // The timer falls due half a retention after the end: it waits for the rest.
    r.clock.0.fetch_add(RETENTION / 2, Ordering::Relaxed);
    r.engine.fire_timers().await;
    assert_eq!(count().await?, 1, "not before the chat's retention is over");
    r.clock.0.fetch_add(RETENTION / 2, Ordering::Relaxed);
    r.engine.fire_timers().await;
    assert_eq!(count().await?, 0, "gone with the chat");
    Ok(())
}

#[tokio::test]
async fn file_transfer_is_off_without_a_blob_store_or_when_disabled() -> Result<(), CoreError> {
    let r = rig(FileSettings {
        enabled: false,
        ..rules()
    })
    .await?;
    let chat = r.chat().await?;
    assert!(matches!(
        file_err(r.customers.file_limits(creds_of(&chat)).await),
        FileError::Disabled
    ));
    let e = ChatEngine::open(
        settings(1),
        Arc::new(MemoryStore::default()),
        Arc::new(crate::ports::SystemClock),
    )
    .await?;
    let chat = open_chat(&e, Selection::Nothing).await?;
    let up = e
        .customers()
        .upload(creds_of(&chat), file("a.txt", b"x", 1))
        .await;
    assert!(matches!(file_err(up), FileError::Disabled));
    Ok(())
}

#[tokio::test]
async fn two_uploads_racing_for_the_last_bytes_announce_one() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    r.put(&chat, file("a.png", PNG, 2_000)).await?;
    // 3,000 bytes left: each fits alone, not both.
    let b = r
        .customers
        .upload(creds_of(&chat), file("b.png", PNG, 2_000))
        .await?;
    let c = r
        .customers
        .upload(creds_of(&chat), file("c.png", PNG, 2_000))
        .await?;
    r.customers
        .announce(creds_of(&chat), b, None, Default::default())
        .await?;
    let late = r
        .customers
        .announce(creds_of(&chat), c, None, Default::default())
        .await;
    assert!(matches!(
        file_err(late),
        FileError::TotalTooLarge { max: 5_000 }
    ));
    assert_eq!(r.used(&chat).await?[..2], ["2", "4000"]);
    Ok(())
}
