//! The [`ChangeFeed`] rules every feed passes: each commit — by this process or by another one
//! sharing the store — is announced once with its chat and new revision, a chat's revisions
//! in order, to every receiver subscribed before it, and only to those; a refused commit is
//! not announced; and a receiver that falls further behind than the feed's capacity is told
//! so (`Lagged`, after which the engine compares every chat it holds) rather than missing
//! announcements silently. [`FeedEvent::Resync`] may come at any time (a feed that
//! reconnected) and is skipped.

use crate::sample;
use chinwag_core::ids::ChatId;
use chinwag_core::ports::{ChangeFeed, ChatStore, Commit, FeedEvent};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

/// Longest wait for one announcement.
const WAIT: Duration = Duration::from_secs(20);

/// Runs every rule. `store` and `other` are two processes' handles on one backend (they may
/// be the same handle where the backend has no second client, like the in-memory store);
/// `feed` is `store`'s feed, already subscribed (a networked feed's worker running and its
/// first `Resync` heard), and `capacity` how many announcements a receiver may fall behind
/// by. Chat ids start with `feed-`; the stores need not be empty.
pub async fn run_suite(
    store: &dyn ChatStore,
    other: &dyn ChatStore,
    feed: &dyn ChangeFeed,
    capacity: usize,
) {
    commits_of_both_processes_are_announced(store, other, feed).await;
    revisions_of_a_chat_come_in_order(store, other, feed).await;
    a_refused_commit_is_not_announced(store, feed).await;
    every_receiver_hears_and_only_from_its_subscription(store, feed).await;
    a_receiver_too_far_behind_is_told(store, feed, capacity).await;
}

/// The next announcement that is not a resync.
async fn next_change(rx: &mut Receiver<FeedEvent>, why: &str) -> (ChatId, u64) {
    loop {
        match tokio::time::timeout(WAIT, rx.recv()).await {
            Ok(Ok(FeedEvent::Changed { chat_id, rev })) => return (chat_id, rev),
            Ok(Ok(FeedEvent::Resync)) => {}
            Ok(Err(e)) => panic!("{why}: feed receiver failed: {e}"),
            Err(_) => panic!("{why}: no announcement within {WAIT:?}"),
        }
    }
}

/// A commit of `chat` on top of revision `base` with no header and no events.
fn touch(chat: &str, base: u64) -> Commit {
    Commit {
        chat_id: ChatId::new(chat),
        base_rev: base,
        record: None,
        events: Vec::new(),
        pushes: Vec::new(),
    }
}

async fn commit(store: &dyn ChatStore, commit: Commit) {
    let chat = commit.chat_id.clone();
    if let Err(e) = store.commit(commit).await {
        panic!("commit of {} failed: {e}", chat.as_str());
    }
}

async fn commits_of_both_processes_are_announced(
    store: &dyn ChatStore,
    other: &dyn ChatStore,
    feed: &dyn ChangeFeed,
) {
    let mut rx = feed.subscribe();
    commit(store, sample("feed-own", 2).0).await;
    assert_eq!(
        next_change(&mut rx, "own commit").await,
        (ChatId::new("feed-own"), 1),
        "a commit is announced with its chat and its new revision"
    );
    commit(other, sample("feed-other", 1).0).await;
    assert_eq!(
        next_change(&mut rx, "another process's commit").await,
        (ChatId::new("feed-other"), 1),
        "a commit by another process sharing the store is announced too"
    );
}

async fn revisions_of_a_chat_come_in_order(
    store: &dyn ChatStore,
    other: &dyn ChatStore,
    feed: &dyn ChangeFeed,
) {
    let mut rx = feed.subscribe();
    commit(store, sample("feed-order", 1).0).await;
    for base in 1..8u64 {
        let writer = if base % 2 == 0 { store } else { other };
        commit(writer, touch("feed-order", base)).await;
    }
    for rev in 1..=8u64 {
        assert_eq!(
            next_change(&mut rx, "ordered revisions").await,
            (ChatId::new("feed-order"), rev),
            "each revision of a chat is announced once, in order"
        );
    }
}

async fn a_refused_commit_is_not_announced(store: &dyn ChatStore, feed: &dyn ChangeFeed) {
    // Subscribed first: a networked feed may deliver an announcement some time after its
    // commit, so "from its subscription on" is about when the feed hears it, not the commit.
    let mut rx = feed.subscribe();
    commit(store, sample("feed-refused", 1).0).await;
    assert_eq!(
        next_change(&mut rx, "before the refused commit").await,
        (ChatId::new("feed-refused"), 1)
    );
    assert!(
        store.commit(touch("feed-refused", 0)).await.is_err(),
        "a commit on a stale revision is refused"
    );
    commit(store, touch("feed-refused", 1)).await;
    assert_eq!(
        next_change(&mut rx, "after a refused commit").await,
        (ChatId::new("feed-refused"), 2),
        "a refused commit announces nothing: the next announcement is the next real revision"
    );
}

async fn every_receiver_hears_and_only_from_its_subscription(
    store: &dyn ChatStore,
    feed: &dyn ChangeFeed,
) {
    let mut first = feed.subscribe();
    commit(store, sample("feed-early", 1).0).await;
    assert_eq!(
        next_change(&mut first, "first receiver").await.0,
        ChatId::new("feed-early")
    );
    let mut second = feed.subscribe();
    commit(store, sample("feed-late", 1).0).await;
    for (rx, name) in [(&mut first, "first"), (&mut second, "second")] {
        assert_eq!(
            next_change(rx, name).await,
            (ChatId::new("feed-late"), 1),
            "every receiver hears every announcement made after it subscribed, and none before"
        );
    }
}

async fn a_receiver_too_far_behind_is_told(
    store: &dyn ChatStore,
    feed: &dyn ChangeFeed,
    capacity: usize,
) {
    let mut slow = feed.subscribe();
    let mut watcher = feed.subscribe();
    let total = capacity + 8;
    let mut expected: HashSet<ChatId> = HashSet::new();
    for i in 0..total {
        let id = format!("feed-lag-{i}");
        commit(store, sample(&id, 1).0).await;
        expected.insert(ChatId::new(id));
        // The watcher keeps up, so every announcement is known to have been made before the
        // slow receiver is read.
        let (chat, _) = next_change(&mut watcher, "keeping up").await;
        assert!(
            expected.contains(&chat),
            "unexpected announcement of {chat:?}"
        );
    }
    let mut heard = 0usize;
    let lagged = loop {
        match tokio::time::timeout(WAIT, slow.recv()).await {
            Ok(Err(RecvError::Lagged(n))) => break n,
            Ok(Ok(FeedEvent::Changed { .. })) => heard += 1,
            Ok(Ok(FeedEvent::Resync)) => {}
            Ok(Err(RecvError::Closed)) => panic!("feed closed"),
            Err(_) => panic!("a receiver {total} announcements behind was never told it lagged"),
        }
        assert!(
            heard < total,
            "a receiver more than the capacity ({capacity}) behind heard every announcement"
        );
    };
    assert!(
        lagged > 0,
        "a lag reports how many announcements were missed"
    );
}
