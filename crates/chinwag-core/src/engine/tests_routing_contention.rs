//! Nodes racing for the shared routing state: three engines on one store whose every call
//! takes a round trip (as Redis does), each starting chats as fast as its customers ask. Each
//! save made on a state another node has saved over is refused; the losers reload, pause a
//! random moment and try again, so every request is answered — none gets "unavailable"
//! because the others kept winning.

use super::tests_shared_store::{open_chat, settings};
use super::*;
use crate::memstore::{MemoryRoutingStore, MemoryStore};
use crate::ports::{RoutingNews, RoutingSnapshot, RoutingStore, SystemClock};
use async_trait::async_trait;
use std::time::Duration;

/// A routing store whose calls each take `rtt` (a network round trip).
struct Distant {
    inner: MemoryRoutingStore,
    rtt: Duration,
}

#[async_trait]
impl RoutingStore for Distant {
    async fn load(&self) -> Result<RoutingSnapshot, crate::StoreError> {
        tokio::time::sleep(self.rtt).await;
        self.inner.load().await
    }

    async fn version(&self) -> Result<u64, crate::StoreError> {
        tokio::time::sleep(self.rtt).await;
        self.inner.version().await
    }

    async fn save(&self, base: u64, state: &[u8], news: &[u8]) -> Result<(), crate::StoreError> {
        tokio::time::sleep(self.rtt).await;
        self.inner.save(base, state, news).await
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<RoutingNews> {
        self.inner.subscribe()
    }
}

#[tokio::test]
async fn nodes_racing_for_routing_answer_every_request() -> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let routing: Arc<dyn RoutingStore> = Arc::new(Distant {
        inner: MemoryRoutingStore::default(),
        rtt: Duration::from_millis(1),
    });
    let mut engines = Vec::new();
    for alias in 1..=3 {
        let e = ChatEngine::open_with(
            settings(alias),
            store.clone(),
            Arc::new(SystemClock),
            Some(routing.clone()),
        )
        .await?;
        engines.push(e);
    }
    let per_node = 30;
    let mut tasks = tokio::task::JoinSet::new();
    for e in &engines {
        for _ in 0..per_node {
            let e = e.clone();
            tasks.spawn(async move { open_chat(&e, Selection::Nothing).await.map(|_| ()) });
        }
    }
    let mut refused = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => refused.push(e),
            Err(panicked) => panic!("a request task failed: {panicked}"),
        }
    }
    assert!(
        refused.is_empty(),
        "requests refused while nodes raced: {refused:?}"
    );
    let waiting = engines[0].routing().overview().await?.waiting;
    assert_eq!(waiting, 3 * per_node, "every chat queued once");
    Ok(())
}
