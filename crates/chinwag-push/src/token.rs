//! A provider's cached bearer token (FCM's OAuth2 access token, APNs's provider JWT):
//! fetched once for all concurrent pushes, reused until shortly before it expires, and
//! dropped when the provider says it is no longer good.

use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// One cached token.
#[derive(Debug, Default)]
pub struct TokenCache {
    slot: Mutex<Option<(String, Instant)>>,
    fetches: std::sync::atomic::AtomicU64,
}

impl TokenCache {
    /// The cached token, or a new one from `fetch` (which returns the token and how long to
    /// keep it). Concurrent callers wait for the one fetch in progress.
    pub async fn get<F, Fut, E>(&self, fetch: F) -> Result<String, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(String, Duration), E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((token, until)) = slot.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let (token, keep) = fetch().await?;
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *slot = Some((token.clone(), Instant::now() + keep));
        Ok(token)
    }

    /// Forgets `token` (if it is still the cached one) so the next push fetches anew.
    pub async fn invalidate(&self, token: &str) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|(t, _)| t == token) {
            *slot = None;
        }
    }

    /// Tokens fetched so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_fetch_serves_until_invalidated() {
        let cache = TokenCache::default();
        let ok = || async { Ok::<_, ()>(("t1".to_owned(), Duration::from_secs(60))) };
        assert_eq!(cache.get(ok).await, Ok("t1".to_owned()));
        assert_eq!(cache.get(ok).await, Ok("t1".to_owned()));
        assert_eq!(cache.fetches(), 1);
        cache.invalidate("other").await;
        assert_eq!(cache.get(ok).await, Ok("t1".to_owned()));
        assert_eq!(cache.fetches(), 1);
        cache.invalidate("t1").await;
        let t2 = || async { Ok::<_, ()>(("t2".to_owned(), Duration::ZERO)) };
        assert_eq!(cache.get(t2).await, Ok("t2".to_owned()));
        // Kept for no time at all: the next call fetches again.
        assert_eq!(cache.get(ok).await, Ok("t1".to_owned()));
        assert_eq!(cache.fetches(), 3);
    }
}
