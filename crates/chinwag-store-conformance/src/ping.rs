//! The `ping` rule: a working store answers it, whether empty or holding chats, and it
//! changes nothing.

use chinwag_core::ports::ChatStore;

pub(crate) async fn ping_answers_and_changes_nothing(store: &dyn ChatStore) {
    let before = crate::live(store, 0).await.len();
    let seq = store
        .last_seq()
        .await
        .unwrap_or_else(|e| panic!("last_seq failed: {e}"));
    for _ in 0..3 {
        if let Err(e) = store.ping().await {
            panic!("a working store answers ping: {e}");
        }
    }
    assert_eq!(
        crate::live(store, 0).await.len(),
        before,
        "ping changes no session"
    );
    assert_eq!(
        store.last_seq().await.ok(),
        Some(seq),
        "ping writes no push job"
    );
}
