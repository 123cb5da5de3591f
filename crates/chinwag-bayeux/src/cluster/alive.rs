//! [`Cached`]: the [`Liveness`] port behind a short memory per node, so a burst of lookups
//! naming one owner (its clients coming back through other nodes) costs one liveness read,
//! not one per session. Concurrent lookups of one node share the read in flight. A live
//! answer is kept briefly (a dead owner is noticed within it); a dead one longer, since a
//! name once dead stays dead.

use super::{DirectoryError, Liveness};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// How long a "alive" answer is reused.
const ALIVE_FOR: Duration = Duration::from_millis(500);
/// How long a "dead" answer is reused.
const DEAD_FOR: Duration = Duration::from_secs(60);
/// Nodes remembered before stale answers are pruned.
const PRUNE_AT: usize = 256;

#[derive(Debug)]
struct Slot {
    asked: Instant,
    answer: OnceCell<bool>,
}

impl Slot {
    fn fresh(&self, now: Instant) -> bool {
        match self.answer.get() {
            None => true,
            Some(true) => now.duration_since(self.asked) < ALIVE_FOR,
            Some(false) => now.duration_since(self.asked) < DEAD_FOR,
        }
    }
}

/// A [`Liveness`] with its answers cached per node.
pub(crate) struct Cached {
    inner: Arc<dyn Liveness>,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl Cached {
    pub(crate) fn new(inner: Arc<dyn Liveness>) -> Self {
        Self {
            inner,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// This node's name now.
    pub(crate) fn me(&self) -> String {
        self.inner.me()
    }

    /// Whether `node` is alive (an answer at most [`ALIVE_FOR`] old).
    pub(crate) async fn alive(&self, node: &str) -> Result<bool, DirectoryError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            match slots.get(node) {
                Some(s) if s.fresh(now) => s.clone(),
                _ => {
                    if slots.len() >= PRUNE_AT {
                        slots.retain(|_, s| s.fresh(now));
                    }
                    let s = Arc::new(Slot {
                        asked: now,
                        answer: OnceCell::new(),
                    });
                    slots.insert(node.to_owned(), s.clone());
                    s
                }
            }
        };
        slot.answer
            .get_or_try_init(|| self.inner.alive(node))
            .await
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize);

    #[async_trait::async_trait]
    impl Liveness for Counting {
        fn me(&self) -> String {
            "me".into()
        }
        async fn alive(&self, node: &str) -> Result<bool, DirectoryError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(node == "up")
        }
    }

    #[tokio::test]
    async fn a_burst_of_lookups_reads_each_node_once() -> Result<(), DirectoryError> {
        let counting = Arc::new(Counting(AtomicUsize::new(0)));
        let cached = Arc::new(Cached::new(counting.clone()));
        let asks = (0..50).map(|i| {
            let c = cached.clone();
            tokio::spawn(async move { c.alive(if i % 2 == 0 { "up" } else { "down" }).await })
        });
        let mut answers = Vec::new();
        for a in asks {
            answers.push(
                a.await
                    .map_err(|e| DirectoryError::Backend(e.to_string()))??,
            );
        }
        assert_eq!(answers.iter().filter(|a| **a).count(), 25);
        assert_eq!(counting.0.load(Ordering::SeqCst), 2, "one read per node");
        tokio::time::sleep(ALIVE_FOR).await;
        assert!(cached.alive("up").await?);
        assert!(!cached.alive("down").await?);
        assert_eq!(
            counting.0.load(Ordering::SeqCst),
            3,
            "a live answer is read again once stale, a dead one is kept"
        );
        Ok(())
    }
}
