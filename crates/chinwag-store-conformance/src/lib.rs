//! The one conformance suite every [`ChatStore`] backend runs: round trips, atomicity,
//! ordering, open/ended filtering and purging, the push outbox, and commits sent together
//! (one failing never fails the others), headers read alone at start (`headers.rs`),
//! revisions, when customers were last seen, `ping`,
//! push job numbering and ownership (`claims`), and the chats' timers ([`timers`]).
//! Backends call [`run_suite`] from a test; [`lease::run_suite`] checks a [`Leases`](chinwag_core::lease::Leases) table and
//! [`run_routing_suite`] a shared routing state (`RoutingStore`), [`feed::run_suite`] a change
//! feed (`ChangeFeed`), [`blobs::run_suite`] a blob store (`BlobStore`). Assertions panic with a
//! message naming the broken rule.

use chinwag_core::event::{Event, EventKind, Party, PartyType};
use chinwag_core::ids::{
    ChatId, EventIndex, NodeAlias, ParticipantId, SecureKey, ServiceName, UserId,
};
use chinwag_core::ports::{ChatStore, Commit};
use chinwag_core::push::{JobKind, PushJob};
use chinwag_core::session::{SessionRecord, client_participant};
use std::collections::BTreeMap;

pub mod blobs;
mod claims;
pub mod feed;
pub mod headers;
pub mod lease;
mod ping;
pub mod quarantine;
pub mod restart;
mod revisions;
mod routing;
mod seen;
pub mod timers;

pub use routing::run_routing_suite;

pub(crate) fn event(index: u64, text: &str) -> Event {
    Event {
        index: EventIndex(index),
        kind: if index == 1 {
            EventKind::ParticipantJoined
        } else {
            EventKind::Message
        },
        from: Party {
            nickname: "Bob".into(),
            participant_id: ParticipantId(1),
            party_type: PartyType::Client,
        },
        text: Some(text.into()),
        message_type: Some("text".into()),
        utc_time_ms: 1_700_000_000_000 + i64::try_from(index).unwrap_or(0),
        user_data: Some(Box::new(BTreeMap::from([(
            "k".to_owned(),
            "v\u{e9}\"".to_owned(),
        )]))),
        event_attributes: Some(Box::new(serde_json::json!({"a": [1, "two"]}))),
    }
}

/// A first commit for a new session `id` with `events` events, and its record.
pub fn sample(id: &str, events: u64) -> (Commit, SessionRecord) {
    let record = SessionRecord {
        chat_id: ChatId::new(id),
        service: ServiceName::new("svc"),
        user_id: UserId::new("00AA"),
        secure_key: SecureKey::new("secret"),
        alias: NodeAlias(3),
        created_ms: 1_700_000_000_000,
        ended_ms: None,
        subject: Some("subject".into()),
        email: None,
        first_name: None,
        last_name: None,
        user_data: BTreeMap::from([("GCTI_LanguageCode".to_owned(), "en".to_owned())]),
        participants: vec![client_participant("Bob", 1_700_000_000_000)],
        downloads: Default::default(),
    };
    let commit = Commit {
        chat_id: ChatId::new(id),
        base_rev: 0,
        record: Some(record.clone()),
        events: (1..=events).map(|i| event(i, &format!("m{i}"))).collect(),
        pushes: Vec::new(),
    };
    (commit, record)
}

/// Runs every rule against `store`, which must start empty.
pub async fn run_suite(store: &dyn ChatStore) {
    crate::ping::ping_answers_and_changes_nothing(store).await;
    round_trip(store).await;
    appends_keep_order(store).await;
    duplicate_index_is_rejected_atomically(store).await;
    events_for_unknown_session_are_rejected(store).await;
    ended_sessions_are_not_open_and_purge(store).await;
    crate::headers::headers_list_live_chats(store).await;
    push_jobs_ride_with_their_commit(store).await;
    push_jobs_update_and_finish(store).await;
    concurrent_commits_are_answered_each_alone(store).await;
    crate::revisions::writers_are_ordered_by_revision(store).await;
    crate::revisions::load_since_reads_only_later_events(store).await;
    crate::seen::last_seen_keeps_the_latest(store).await;
    crate::seen::each_field_keeps_its_largest(store).await;
    crate::claims::run(store).await;
    crate::timers::run_suite(store).await;
    crate::ping::ping_answers_and_changes_nothing(store).await;
}

/// The sessions `load_live(since)` returns, asserting nothing was quarantined.
async fn live(store: &dyn ChatStore, since: i64) -> Vec<chinwag_core::ports::StoredSession> {
    let loaded = store
        .load_live(since)
        .await
        .unwrap_or_else(|e| panic!("load_live failed: {e}"));
    assert!(
        loaded.quarantined.is_empty(),
        "well-formed sessions are never quarantined"
    );
    loaded.sessions
}

pub(crate) fn job(seq: u64, chat: &str, index: u64) -> PushJob {
    PushJob {
        seq,
        device: format!("customhttp:{chat}"),
        chat_id: ChatId::new(chat),
        index: EventIndex(index),
        kind: JobKind::Event,
        attempt: 0,
        due_ms: 1_700_000_000_000,
        sent: false,
        owner: None,
    }
}

async fn push_jobs_ride_with_their_commit(store: &dyn ChatStore) {
    let (mut commit, _) = sample("push1", 2);
    commit.pushes = vec![job(101, "push1", 1), job(102, "push1", 2)];
    assert!(store.commit(commit).await.is_ok(), "commit with pushes");
    // A rejected commit (duplicate index) must not leave its pushes behind.
    let (mut dup, _) = sample("push1", 1);
    dup.record = None;
    dup.base_rev = 1;
    dup.pushes = vec![job(103, "push1", 1)];
    assert!(
        store.commit(dup).await.is_err(),
        "duplicate index must fail"
    );
    let seqs: Vec<u64> = store
        .pending()
        .await
        .unwrap_or_default()
        .iter()
        .map(|j| j.seq)
        .collect();
    assert_eq!(
        seqs,
        [101, 102],
        "jobs of a failed commit must not be stored"
    );
    assert_eq!(
        store.last_seq().await.ok(),
        Some(102),
        "last_seq after commit"
    );
}

async fn push_jobs_update_and_finish(store: &dyn ChatStore) {
    let mut shutdown = job(200, "push1", 2);
    shutdown.kind = JobKind::Shutdown;
    assert!(
        store.enqueue(vec![shutdown.clone()]).await.is_ok(),
        "enqueue"
    );
    let mut updated = job(101, "push1", 1);
    updated.attempt = 3;
    updated.due_ms = 42;
    updated.sent = true;
    assert!(store.update(&updated).await.is_ok(), "update");
    assert!(
        store.finish(&[102, 999]).await.is_ok(),
        "finish (999 unknown)"
    );
    let left = store.pending().await.unwrap_or_default();
    assert_eq!(
        left,
        vec![updated, shutdown],
        "pending after update and finish"
    );
    assert!(store.finish(&[101, 200]).await.is_ok(), "finish all");
    assert!(
        store.pending().await.unwrap_or_default().is_empty(),
        "nothing left"
    );
    assert_eq!(
        store.last_seq().await.ok(),
        Some(200),
        "last_seq survives finishing every job"
    );
}

async fn round_trip(store: &dyn ChatStore) {
    let (commit, record) = sample("rt", 2);
    let events = commit.events.clone();
    assert!(
        store.commit(commit).await.is_ok(),
        "first commit of a session must succeed"
    );
    let got = store.load(&ChatId::new("rt")).await.ok().flatten();
    let got = got.unwrap_or_else(|| panic!("committed session must load"));
    assert_eq!(got.record, record, "record must round-trip exactly");
    assert_eq!(got.events, events, "events must round-trip exactly");
    assert!(
        store
            .load(&ChatId::new("absent"))
            .await
            .ok()
            .flatten()
            .is_none(),
        "unknown chat loads as None"
    );
}

async fn appends_keep_order(store: &dyn ChatStore) {
    let (commit, mut record) = sample("ord", 1);
    assert!(store.commit(commit).await.is_ok());
    for i in 2..=5 {
        let c = Commit {
            chat_id: ChatId::new("ord"),
            base_rev: i - 1,
            record: None,
            events: vec![event(i, "x")],
            pushes: Vec::new(),
        };
        assert!(
            store.commit(c).await.is_ok(),
            "appending event {i} must succeed"
        );
    }
    record.user_data.insert("new".into(), "data".into());
    let c = Commit {
        chat_id: ChatId::new("ord"),
        base_rev: 5,
        record: Some(record.clone()),
        events: vec![event(6, "y"), event(7, "z")],
        pushes: Vec::new(),
    };
    assert!(store.commit(c).await.is_ok());
    let got = store
        .load(&ChatId::new("ord"))
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("must load"));
    let idx: Vec<u64> = got.events.iter().map(|e| e.index.0).collect();
    assert_eq!(
        idx,
        (1..=7).collect::<Vec<_>>(),
        "events must come back in index order"
    );
    assert_eq!(got.record, record, "the latest record wins");
    assert_eq!(got.rev, 6, "each commit adds one to the revision");
}

async fn duplicate_index_is_rejected_atomically(store: &dyn ChatStore) {
    let (commit, record) = sample("dup", 2);
    assert!(store.commit(commit).await.is_ok());
    let mut changed = record.clone();
    changed.subject = Some("changed".into());
    let bad = Commit {
        chat_id: ChatId::new("dup"),
        base_rev: 1,
        record: Some(changed),
        events: vec![event(3, "ok"), event(2, "again")],
        pushes: Vec::new(),
    };
    assert!(
        store.commit(bad).await.is_err(),
        "a duplicate index must be refused"
    );
    let got = store
        .load(&ChatId::new("dup"))
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("must load"));
    assert_eq!(
        got.events.len(),
        2,
        "a refused commit must not leave any of its events"
    );
    assert_eq!(
        got.record, record,
        "a refused commit must not change the record"
    );
    assert_eq!(got.rev, 1, "a refused commit must not change the revision");
}

async fn events_for_unknown_session_are_rejected(store: &dyn ChatStore) {
    let c = Commit {
        chat_id: ChatId::new("ghost"),
        base_rev: 0,
        record: None,
        events: vec![event(1, "x")],
        pushes: Vec::new(),
    };
    assert!(
        store.commit(c).await.is_err(),
        "events without a session record must be refused"
    );
}

async fn ended_sessions_are_not_open_and_purge(store: &dyn ChatStore) {
    let (commit, mut record) = sample("end", 1);
    assert!(store.commit(commit).await.is_ok());
    let open_ids = |v: Vec<chinwag_core::ports::StoredSession>| {
        let mut ids: Vec<String> = v
            .into_iter()
            .map(|s| s.record.chat_id.to_string())
            .collect();
        ids.sort();
        ids
    };
    let open = open_ids(live(store, i64::MAX).await);
    assert!(
        open.contains(&"end".to_owned()),
        "an open session is listed as open"
    );
    record.ended_ms = Some(5_000);
    let c = Commit {
        chat_id: ChatId::new("end"),
        base_rev: 1,
        record: Some(record),
        events: vec![event(2, "bye")],
        pushes: Vec::new(),
    };
    assert!(store.commit(c).await.is_ok());
    let open = open_ids(live(store, 5_001).await);
    assert!(
        !open.contains(&"end".to_owned()),
        "a session ended before the cutoff is not live"
    );
    assert_eq!(
        open,
        vec!["dup", "ord", "rt"],
        "load_live returns exactly the open sessions (and those ended since the cutoff)"
    );
    let with_ended = open_ids(live(store, 5_000).await);
    assert_eq!(
        with_ended,
        vec!["dup", "end", "ord", "rt"],
        "a session ended at or after the cutoff is live (still readable)"
    );
    let all = live(store, 0).await;
    assert!(
        all.iter().all(|s| !s.events.is_empty()),
        "live sessions load with their events"
    );
    assert_eq!(
        store.purge_ended(5_000).await.ok(),
        Some(0),
        "purge keeps sessions ended at or after the cutoff"
    );
    assert_eq!(
        store.purge_ended(5_001).await.ok(),
        Some(1),
        "purge removes sessions ended before the cutoff"
    );
    assert!(
        store
            .load(&ChatId::new("end"))
            .await
            .ok()
            .flatten()
            .is_none(),
        "a purged session is gone"
    );
}

async fn concurrent_commits_are_answered_each_alone(store: &dyn ChatStore) {
    // Sent together, so a grouping backend gets them in one group: good and bad mixed.
    // At the right revision, so it fails on its duplicate index (inside the group).
    let (mut dup, _) = sample("ord", 1);
    dup.record = None;
    dup.base_rev = 6;
    let ghost = Commit {
        chat_id: ChatId::new("ghost2"),
        base_rev: 0,
        record: None,
        events: vec![event(1, "x")],
        pushes: Vec::new(),
    };
    let mut commits = Vec::new();
    for i in 0..3 {
        commits.push(sample(&format!("together{i}"), 2).0);
    }
    commits.insert(1, dup);
    commits.insert(3, ghost);
    let answers =
        futures_util::future::join_all(commits.into_iter().map(|c| store.commit(c))).await;
    let ok: Vec<bool> = answers.iter().map(Result::is_ok).collect();
    assert_eq!(
        ok,
        [true, false, true, false, true],
        "each commit sent together gets its own answer"
    );
    for i in 0..3 {
        let got = store
            .load(&ChatId::new(format!("together{i}")))
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("together{i} committed beside failures must load"));
        assert_eq!(got.events.len(), 2, "together{i} loads whole");
    }
    let ord = store.load(&ChatId::new("ord")).await.ok().flatten();
    assert_eq!(
        ord.map(|s| s.events.len()),
        Some(7),
        "a failed commit sent beside others changes nothing"
    );
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_memory_store_conforms() {
        let store = chinwag_core::memstore::MemoryStore::default();
        super::run_suite(&store).await;
    }

    #[tokio::test]
    async fn the_memory_blob_store_conforms() {
        let store = chinwag_core::memstore::MemoryBlobs::new(64 << 20);
        crate::blobs::run_suite(&store).await;
    }

    #[tokio::test]
    async fn the_shared_memory_store_conforms() {
        let store = chinwag_core::memstore::MemoryStore::new_shared();
        super::run_suite(&store).await;
    }

    #[tokio::test]
    async fn the_memory_change_feed_conforms() {
        let store = chinwag_core::memstore::MemoryStore::new_shared();
        super::feed::run_suite(&store, &store, &store, 1024).await;
    }

    #[tokio::test]
    async fn in_process_leases_conform() {
        super::lease::run_suite(&chinwag_core::lease::LocalLeases::default()).await;
    }

    #[tokio::test]
    async fn the_memory_routing_store_conforms() {
        let store = chinwag_core::memstore::MemoryRoutingStore::default();
        super::run_routing_suite(&store).await;
    }
}
