//! The revision rule: a commit computed from a stale revision changes nothing, and of writers
//! racing from one revision exactly one wins. This is what lets several nodes write one chat
//! without a lock between them.

use crate::{event, job, sample};
use chinwag_core::StoreError;
use chinwag_core::ids::{ChatId, EventIndex};
use chinwag_core::ports::{ChatStore, Commit};

fn append(base_rev: u64, index: u64, text: &str) -> Commit {
    Commit {
        chat_id: ChatId::new("rev"),
        base_rev,
        record: None,
        events: vec![event(index, text)],
        pushes: Vec::new(),
    }
}

async fn rev_and_len(store: &dyn ChatStore) -> (u64, usize) {
    let s = store.load(&ChatId::new("rev")).await.ok().flatten();
    let s = s.unwrap_or_else(|| panic!("rev must load"));
    let alone = store.revision(&ChatId::new("rev")).await.ok().flatten();
    assert_eq!(alone, Some(s.rev), "revision() agrees with load()");
    (s.rev, s.events.len())
}

pub(crate) async fn writers_are_ordered_by_revision(store: &dyn ChatStore) {
    assert!(
        matches!(store.revision(&ChatId::new("rev")).await, Ok(None)),
        "an unknown chat has no revision"
    );
    let (create, record) = sample("rev", 1);
    assert!(store.commit(create.clone()).await.is_ok(), "create rev");
    assert_eq!(
        rev_and_len(store).await,
        (1, 1),
        "a new chat is at revision 1"
    );
    assert!(
        matches!(store.commit(create).await, Err(StoreError::Conflict)),
        "creating a chat that exists (base 0) is a conflict"
    );
    assert!(store.commit(append(1, 2, "a")).await.is_ok(), "append at 1");
    let mut stale = append(1, 3, "stale");
    stale.pushes = vec![job(300, "rev", 3)];
    assert!(
        matches!(store.commit(stale).await, Err(StoreError::Conflict)),
        "a commit from a stale revision is a conflict"
    );
    assert!(
        !store
            .pending()
            .await
            .unwrap_or_default()
            .iter()
            .any(|j| j.seq == 300),
        "a conflicting commit leaves no push job"
    );
    assert_eq!(
        rev_and_len(store).await,
        (2, 2),
        "a conflict changes nothing"
    );
    let mut header = record;
    header.subject = Some("header only".into());
    let header_only = Commit {
        chat_id: ChatId::new("rev"),
        base_rev: 2,
        record: Some(header.clone()),
        events: Vec::new(),
        pushes: Vec::new(),
    };
    assert!(
        store.commit(header_only).await.is_ok(),
        "header-only commit"
    );
    assert_eq!(
        rev_and_len(store).await,
        (3, 2),
        "a header-only commit counts"
    );
    let racing = (0..8).map(|i| store.commit(append(3, 3, &format!("racer{i}"))));
    let answers = futures_util::future::join_all(racing).await;
    let won = answers.iter().filter(|a| a.is_ok()).count();
    let lost = answers
        .iter()
        .filter(|a| matches!(a, Err(StoreError::Conflict)))
        .count();
    assert_eq!(
        (won, lost),
        (1, 7),
        "of writers racing from one revision exactly one wins"
    );
    let s = store.load(&ChatId::new("rev")).await.ok().flatten();
    let s = s.unwrap_or_else(|| panic!("rev must load"));
    assert_eq!(
        (s.rev, s.events.len()),
        (4, 3),
        "the winner's event alone was added"
    );
    assert_eq!(
        s.record, header,
        "appends without a header keep the last one"
    );
}

/// `load_since`: the header and revision with only the events after the given index.
pub(crate) async fn load_since_reads_only_later_events(store: &dyn ChatStore) {
    let id = ChatId::new("since");
    let (create, _) = sample("since", 3);
    assert!(store.commit(create).await.is_ok(), "create since");
    let whole = store.load(&id).await.ok().flatten();
    let whole = whole.unwrap_or_else(|| panic!("since must load"));
    for after in 0..=4u64 {
        let part = store.load_since(&id, EventIndex(after)).await;
        let part = part
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("since after {after}"));
        let indexes: Vec<u64> = part.events.iter().map(|e| e.index.0).collect();
        let expected: Vec<u64> = (after + 1..=3).collect();
        assert_eq!(indexes, expected, "events after {after}");
        assert_eq!(
            part.rev, whole.rev,
            "the revision, whatever the events read"
        );
        assert_eq!(part.record.chat_id, whole.record.chat_id, "the header");
        if let (Some(a), Some(b)) = (part.events.first(), whole.events.get(after as usize)) {
            assert_eq!(a.text, b.text, "the same events");
        }
    }
    assert!(
        matches!(
            store
                .load_since(&ChatId::new("since-none"), EventIndex(0))
                .await,
            Ok(None)
        ),
        "an unknown chat"
    );
}
