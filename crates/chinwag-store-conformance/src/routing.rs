//! The [`RoutingStore`] rules: an empty store is version 0; a save lands only on the version
//! it was computed from (then the version is one more and the bytes load back exactly); of
//! saves racing from one version exactly one lands; versions only go up; a save that lands
//! announces its news (with its version) to subscribers, and one refused or with empty news
//! announces nothing. Backends call [`run_routing_suite`] on an empty store whose
//! announcements are already being heard (on Redis: its feed subscribed).

use chinwag_core::StoreError;
use chinwag_core::ports::{RoutingNews, RoutingSnapshot, RoutingStore};
use std::time::Duration;
use tokio::sync::broadcast::Receiver;

async fn snapshot(store: &dyn RoutingStore) -> RoutingSnapshot {
    let s = store
        .load()
        .await
        .unwrap_or_else(|e| panic!("routing load failed: {e}"));
    let v = store
        .version()
        .await
        .unwrap_or_else(|e| panic!("routing version failed: {e}"));
    assert_eq!(v, s.version, "version() agrees with load()");
    s
}

/// The next announcement of a save (resyncs skipped), within 10 s.
async fn next_saved(rx: &mut Receiver<RoutingNews>) -> (u64, Vec<u8>) {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(RoutingNews::Saved { version, news }) => return Some((version, news.to_vec())),
                Ok(RoutingNews::Resync)
                | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return None,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("a save's announcement never came"))
}

/// Runs every routing rule against `store`, which must start empty.
pub async fn run_routing_suite(store: &dyn RoutingStore) {
    let mut rx = store.subscribe();
    an_empty_store_is_version_zero(store).await;
    saves_land_only_on_their_base(store).await;
    racing_saves_land_once(store).await;
    versions_only_go_up_and_bytes_come_back_exactly(store).await;
    saves_announce_their_news_once(store, &mut rx).await;
}

async fn an_empty_store_is_version_zero(store: &dyn RoutingStore) {
    assert_eq!(
        snapshot(store).await,
        RoutingSnapshot::default(),
        "nothing saved: version 0, no state"
    );
}

async fn saves_land_only_on_their_base(store: &dyn RoutingStore) {
    assert!(store.save(0, b"one", b"").await.is_ok(), "first save on 0");
    let one = RoutingSnapshot {
        version: 1,
        state: Some(b"one".to_vec()),
    };
    assert_eq!(snapshot(store).await, one, "the first save is version 1");
    for stale in [0, 2, 7] {
        assert!(
            matches!(
                store.save(stale, b"stale", b"").await,
                Err(StoreError::Conflict)
            ),
            "a save on version {stale} while 1 is stored is a conflict"
        );
    }
    assert_eq!(snapshot(store).await, one, "a conflict changes nothing");
}

async fn racing_saves_land_once(store: &dyn RoutingStore) {
    let states: Vec<Vec<u8>> = (0..8).map(|i| format!("racer{i}").into_bytes()).collect();
    let racing = states.iter().map(|s| store.save(1, s, b""));
    let answers = futures_util::future::join_all(racing).await;
    let won: Vec<usize> = (0..answers.len()).filter(|i| answers[*i].is_ok()).collect();
    let lost = answers
        .iter()
        .filter(|a| matches!(a, Err(StoreError::Conflict)))
        .count();
    assert_eq!(
        (won.len(), lost),
        (1, 7),
        "of saves racing from one version exactly one lands"
    );
    let s = snapshot(store).await;
    assert_eq!(s.version, 2);
    assert_eq!(
        s.state.as_ref(),
        states.get(won[0]),
        "the winner's state is stored"
    );
}

async fn versions_only_go_up_and_bytes_come_back_exactly(store: &dyn RoutingStore) {
    let big: Vec<u8> = (0..(1 << 20)).map(|i: u32| (i % 251) as u8).collect();
    let odd = vec![0u8, 0xff, b'\n', b'"', b'\\', 0x80, b':', 0];
    let mut version = snapshot(store).await.version;
    for state in [odd, big, Vec::new()] {
        let saved = store.save(version, &state, b"").await;
        assert!(saved.is_ok(), "save on the stored version: {saved:?}");
        let s = snapshot(store).await;
        assert_eq!(s.version, version + 1, "each save adds one");
        assert!(
            s.state == Some(state),
            "bytes load back exactly (len {})",
            s.state.map_or(0, |s| s.len())
        );
        version = s.version;
    }
}

async fn saves_announce_their_news_once(store: &dyn RoutingStore, rx: &mut Receiver<RoutingNews>) {
    let base = snapshot(store).await.version;
    assert!(store.save(base, b"s1", b"news one").await.is_ok());
    assert_eq!(next_saved(rx).await, (base + 1, b"news one".to_vec()));
    // Refused, or with nothing to say: not announced. The next announcement is the fence's.
    let refused = store.save(base, b"stale", b"refused news").await;
    assert!(matches!(refused, Err(StoreError::Conflict)));
    assert!(store.save(base + 1, b"s2", b"").await.is_ok());
    let news = vec![0u8, 0xff, b'{', b'\n'];
    assert!(store.save(base + 2, b"s3", &news).await.is_ok());
    assert_eq!(
        next_saved(rx).await,
        (base + 3, news),
        "a refused save and one with empty news announce nothing; news is binary-safe"
    );
    let late = store.subscribe();
    assert!(
        late.is_empty(),
        "a new receiver hears only what comes after it"
    );
}
