//! The `store-probe` worker: pings the store every second (with a timeout) and keeps the last
//! answer and its latency for `/health` and `/metrics`.
//!
//! Why a worker and not a ping per `/health` request: `/health` is open to anyone, and a
//! flood of it must not become a flood of work for the store. Here the store sees one ping a
//! second whatever `/health` receives, and `/health` only reads the last result (at most
//! [`PERIOD`] + [`TIMEOUT`] old).

use chinwag_core::ports::ChatStore;
use serde::Serialize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Time between pings.
pub(crate) const PERIOD: Duration = Duration::from_secs(1);
/// A ping not answered within this long counts as a failure.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(2);

/// The last ping's outcome.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StoreStatus {
    /// `ok`, `error` (the store answered with an error) or `timeout`.
    pub(crate) status: &'static str,
    /// What went wrong (absent when `ok`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// How long the ping took, in milliseconds (the timeout when it timed out).
    pub(crate) latency_ms: f64,
    /// How long ago the ping was answered, in milliseconds.
    pub(crate) checked_ms_ago: u64,
}

impl StoreStatus {
    pub(crate) fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

#[derive(Debug)]
struct Last {
    status: &'static str,
    error: Option<String>,
    latency: Duration,
    at: Instant,
}

/// The last result, shared with the endpoints.
#[derive(Debug, Clone)]
pub(crate) struct StoreHealth(Arc<Mutex<Last>>);

impl StoreHealth {
    /// Pings `store` once and keeps the answer (done before serving, so `/health` has a
    /// result from the start).
    pub(crate) async fn first(store: &dyn ChatStore) -> Self {
        let this = Self(Arc::new(Mutex::new(Last {
            status: "ok",
            error: None,
            latency: Duration::ZERO,
            at: Instant::now(),
        })));
        this.ping(store).await;
        this
    }

    /// The last result.
    pub(crate) fn status(&self) -> StoreStatus {
        let l = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        StoreStatus {
            status: l.status,
            error: l.error.clone(),
            latency_ms: l.latency.as_secs_f64() * 1000.0,
            checked_ms_ago: u64::try_from(l.at.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    async fn ping(&self, store: &dyn ChatStore) {
        let started = Instant::now();
        let answer = tokio::time::timeout(TIMEOUT, store.ping()).await;
        let latency = started.elapsed();
        let (status, error) = match answer {
            Ok(Ok(())) => ("ok", None),
            Ok(Err(e)) => ("error", Some(e.to_string())),
            Err(_) => ("timeout", Some(format!("no answer within {TIMEOUT:?}"))),
        };
        let was_ok = {
            let mut l = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            let was_ok = l.status == "ok";
            *l = Last {
                status,
                error: error.clone(),
                latency,
                at: Instant::now(),
            };
            was_ok
        };
        match (was_ok, error) {
            (true, Some(e)) => {
                tracing::error!(error = %e, "store ping failed: /health reports the node failing")
            }
            (false, None) => tracing::info!("store answers again"),
            _ => {}
        }
    }

    /// The worker: pings every [`PERIOD`] until cancelled.
    pub(crate) async fn run(self, store: Arc<dyn ChatStore>, cancel: CancellationToken) {
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(PERIOD) => {}
            }
            self.ping(store.as_ref()).await;
        }
    }
}
