//! Two engines on one shared store with a change feed (as two nodes on Redis): what one
//! commits reaches the other's bus once, in order, and an end there settles the chat there.

use super::tests_shared_store::{creds_of, open_chat, send, settings};
use super::*;
use crate::event::EventKind;
use crate::ids::EventIndex;
use crate::memstore::MemoryStore;
use crate::ports::SystemClock;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use tokio_util::sync::CancellationToken;

/// The next transcript event on `rx` (other bus events skipped), within 5 s.
async fn next_transcript(rx: &mut Receiver<BusEvent>) -> Option<(EventKind, Option<String>)> {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(BusEvent::Transcript { event, .. }) => {
                    break Some((event.kind, event.text.as_deref().map(str::to_owned)));
                }
                Ok(_) => {}
                Err(_) => break None,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn what_one_engine_commits_reaches_the_other_engines_bus_once() -> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let a = ChatEngine::open(settings(1), store.clone(), Arc::new(SystemClock)).await?;
    let b = ChatEngine::open(settings(2), store.clone(), Arc::new(SystemClock)).await?;
    let cancel = CancellationToken::new();
    let worker = tokio::spawn(CatchUpWorker::new(a.clone(), store.as_ref()).run(cancel.clone()));
    let view = open_chat(&a, Selection::Nothing).await?;
    assert_eq!(a.open_sessions(), 1);
    let creds = creds_of(&view);
    let mut on_a = a.bus().subscribe();
    b.customer(creds, send("one"), Selection::Nothing).await?;
    b.customer(creds, send("two"), Selection::Nothing).await?;
    assert_eq!(
        next_transcript(&mut on_a).await,
        Some((EventKind::Message, Some("one".into())))
    );
    assert_eq!(
        next_transcript(&mut on_a).await,
        Some((EventKind::Message, Some("two".into())))
    );
    // A writes next: its own event is published once, not again by the catch-up.
    a.customer(creds, send("three"), Selection::Nothing).await?;
    assert_eq!(
        next_transcript(&mut on_a).await,
        Some((EventKind::Message, Some("three".into())))
    );
    b.customer(creds, CustomerOp::Disconnect, Selection::Nothing)
        .await?;
    assert_eq!(
        next_transcript(&mut on_a).await,
        Some((EventKind::ParticipantLeft, None))
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(BusEvent::ChatEnded { chat_id, .. }) = on_a.recv().await {
                break chat_id;
            }
        }
    })
    .await
    .ok();
    assert_eq!(
        ended.as_ref(),
        Some(&view.chat_id),
        "A's agents are told it ended"
    );
    assert_eq!(a.open_sessions(), 0, "the end B wrote is settled on A");
    assert!(on_a.try_recv().is_err(), "nothing twice");
    cancel.cancel();
    let _ = worker.await;
    Ok(())
}

#[tokio::test]
async fn after_missed_announcements_a_resync_catches_up() -> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let a = ChatEngine::open(settings(1), store.clone(), Arc::new(SystemClock)).await?;
    let b = ChatEngine::open(settings(2), store.clone(), Arc::new(SystemClock)).await?;
    let view = open_chat(&a, Selection::Nothing).await?;
    let creds = creds_of(&view);
    // No worker on A while B writes: the announcement is lost.
    b.customer(creds, send("missed"), Selection::Nothing)
        .await?;
    let mut on_a = a.bus().subscribe();
    let cancel = CancellationToken::new();
    let worker = tokio::spawn(CatchUpWorker::new(a.clone(), store.as_ref()).run(cancel.clone()));
    store.announce_resync();
    assert_eq!(
        next_transcript(&mut on_a).await,
        Some((EventKind::Message, Some("missed".into())))
    );
    let at = a.read(creds, None, Selection::From(EventIndex(1))).await?;
    assert_eq!(at.events.len(), 2);
    cancel.cancel();
    let _ = worker.await;
    Ok(())
}
