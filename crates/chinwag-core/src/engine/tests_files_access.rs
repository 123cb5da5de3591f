//! Who may reach which file through the role handles: delete rules (a customer its own
//! files, an agent any), another chat's file id, two uploads racing for the last slot, the
//! scan hook (rejecting, failing closed), a chat's files deleted once its retention is over,
//! and file transfer off.

use super::tests_files_kit::*;
use super::tests_shared_store::{creds_of, open_chat, settings};
use super::*;
use crate::files::{FileError, FileSettings};
use crate::memstore::MemoryStore;
use crate::ports::{ByteStream, FileScanner, ScanError, ScanVerdict};

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
    assert_eq!(r.stored(&chat).await?, 1);
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
    assert_eq!(r.stored(&chat).await?, 1, "the loser's bytes deleted");
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
    assert_eq!(r.stored(&chat).await?, 0);
    r.put(&chat, file("b.txt", b"hello there", 11)).await?;
    let down = rig(rules()).await?;
    down.engine.set_scanner(Arc::new(Scanner(None)));
    let chat = down.chat().await?;
    let failed = down.put(&chat, file("a.txt", b"hello", 5)).await;
    assert!(
        matches!(file_err(failed), FileError::ScanFailed),
        "fail closed"
    );
    assert_eq!(down.stored(&chat).await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_chats_files_go_once_its_retention_is_over() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    r.put(&chat, file("a.txt", b"keep me", 7)).await?;
    r.clock.0.fetch_add(RETENTION + 1, Ordering::Relaxed);
    r.engine.fire_timers().await;
    assert_eq!(r.stored(&chat).await?, 1, "an open chat keeps its files");
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
    assert_eq!(
        r.stored(&chat).await?,
        1,
        "not before the chat's retention is over"
    );
    r.clock.0.fetch_add(RETENTION / 2, Ordering::Relaxed);
    r.engine.fire_timers().await;
    assert_eq!(r.stored(&chat).await?, 0, "gone with the chat");
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
