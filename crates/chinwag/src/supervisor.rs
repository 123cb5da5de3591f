//! The one supervisor of the process's background work: every worker is started by name under
//! the one cancellation token, its state is recorded (running, stopped, failed, panicked), a
//! worker that ends before shutdown is logged as an error, and `/health` and `/metrics` read
//! a snapshot.
//!
//! A worker that fails or panics is **not restarted**. Its task is gone and whatever it was in
//! the middle of (a push half sent, a routing pass half done) is unknown; starting it again
//! could repeat work the issue promises happens once, and a bug that panics on some stored
//! data would panic again in a loop. Instead the node reports itself failing (`/health`
//! answers 503, so a load balancer takes it out) and keeps serving what it can until the
//! operator or the orchestrator restarts it; a restart rebuilds every worker's state from the
//! store.

use serde::Serialize;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What a worker is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "lowercase")]
pub(crate) enum WorkerState {
    /// Started and not ended.
    Running,
    /// Ended after the shutdown signal, as it should.
    Stopped,
    /// Ended on its own before shutdown.
    Failed(String),
    /// Panicked (the panic message).
    Panicked(String),
}

impl WorkerState {
    /// Ended when it should not have.
    pub(crate) fn is_failure(&self) -> bool {
        matches!(self, Self::Failed(_) | Self::Panicked(_))
    }
}

/// One worker as `/health` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkerStatus {
    pub(crate) name: &'static str,
    #[serde(flatten)]
    pub(crate) state: WorkerState,
    /// Seconds since the worker entered this state.
    pub(crate) for_secs: u64,
}

#[derive(Debug)]
struct Entry {
    name: &'static str,
    state: WorkerState,
    since: Instant,
}

/// The workers' states, shared with the endpoints that report them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Workers(Arc<Mutex<Vec<Entry>>>);

impl Workers {
    fn set(&self, name: &'static str, state: WorkerState) {
        let mut all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = Entry {
            name,
            state,
            since: Instant::now(),
        };
        match all.iter_mut().find(|e| e.name == name) {
            Some(e) => *e = entry,
            None => all.push(entry),
        }
    }

    /// Every worker, in the order they were started.
    pub(crate) fn snapshot(&self) -> Vec<WorkerStatus> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|e| WorkerStatus {
                name: e.name,
                state: e.state.clone(),
                for_secs: e.since.elapsed().as_secs(),
            })
            .collect()
    }
}

/// Starts workers and stops them.
#[derive(Debug)]
pub(crate) struct Supervisor {
    cancel: CancellationToken,
    tasks: TaskTracker,
    workers: Workers,
}

impl Supervisor {
    /// A supervisor whose workers stop when `cancel` fires.
    pub(crate) fn new(cancel: CancellationToken) -> Self {
        Self {
            cancel,
            tasks: TaskTracker::new(),
            workers: Workers::default(),
        }
    }

    /// The states, for `/health` and `/metrics`.
    pub(crate) fn workers(&self) -> Workers {
        self.workers.clone()
    }

    /// Starts `work` (made from the shutdown token) as the worker `name`. Names are unique:
    /// a second worker of the same name replaces the first one's entry.
    pub(crate) fn start<F, Fut>(&self, name: &'static str, work: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        tracing::info!(worker = name, "starting worker");
        self.workers.set(name, WorkerState::Running);
        // The work runs in a task of its own, so a panic ends only that task and is seen
        // here as a `JoinError`, not as the end of the process.
        let task = tokio::spawn(work(self.cancel.clone()));
        let (cancel, workers) = (self.cancel.clone(), self.workers.clone());
        self.tasks.spawn(async move {
            let state = match task.await {
                Ok(()) if cancel.is_cancelled() => WorkerState::Stopped,
                Ok(()) => WorkerState::Failed("ended before shutdown".into()),
                Err(e) if e.is_panic() => WorkerState::Panicked(panic_message(e.into_panic())),
                Err(_) => WorkerState::Failed("aborted".into()),
            };
            match &state {
                WorkerState::Failed(why) => {
                    tracing::error!(worker = name, reason = %why, "worker failed: not restarted, /health reports it");
                }
                WorkerState::Panicked(why) => {
                    tracing::error!(worker = name, panic = %why, "worker panicked: not restarted, /health reports it");
                }
                _ => tracing::debug!(worker = name, "worker stopped"),
            }
            workers.set(name, state);
        });
    }

    /// Cancels the token (if not already) and waits up to `within` for every worker to end;
    /// names the ones still running after that.
    pub(crate) async fn stop(self, within: Duration) {
        self.cancel.cancel();
        self.tasks.close();
        if tokio::time::timeout(within, self.tasks.wait())
            .await
            .is_err()
        {
            let late: Vec<&str> = self
                .workers
                .snapshot()
                .into_iter()
                .filter(|w| w.state == WorkerState::Running)
                .map(|w| w.name)
                .collect();
            tracing::warn!(workers = ?late, "workers still running after the stop period");
        }
    }
}

/// The text of a panic payload (`panic!` makes a `&str` or a `String`).
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic payload".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_of(w: &Workers, name: &str) -> Option<WorkerState> {
        w.snapshot()
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.state)
    }

    /// Waits (bounded) until `name` has left `Running`.
    async fn ended(w: &Workers, name: &str) -> Option<WorkerState> {
        for _ in 0..500 {
            match state_of(w, name) {
                Some(WorkerState::Running) | None => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                other => return other,
            }
        }
        None
    }

    #[tokio::test]
    async fn a_panic_or_an_early_end_is_recorded_and_the_others_run_on() {
        let sup = Supervisor::new(CancellationToken::new());
        let w = sup.workers();
        sup.start("steady", |c| async move { c.cancelled().await });
        sup.start("crashes", |_| async { panic!("boom at pass 3") });
        sup.start("quits", |_| async {});
        assert_eq!(
            ended(&w, "crashes").await,
            Some(WorkerState::Panicked("boom at pass 3".into()))
        );
        assert_eq!(
            ended(&w, "quits").await,
            Some(WorkerState::Failed("ended before shutdown".into()))
        );
        assert_eq!(state_of(&w, "steady"), Some(WorkerState::Running));
        let names: Vec<_> = w.snapshot().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["steady", "crashes", "quits"], "in start order");
        sup.stop(Duration::from_secs(5)).await;
        assert_eq!(state_of(&w, "steady"), Some(WorkerState::Stopped));
        assert!(state_of(&w, "crashes").is_some_and(|s| s.is_failure()));
    }

    #[tokio::test]
    async fn stop_is_bounded_when_a_worker_ignores_the_token() {
        let sup = Supervisor::new(CancellationToken::new());
        let w = sup.workers();
        sup.start("deaf", |_| std::future::pending());
        sup.stop(Duration::from_millis(50)).await;
        assert_eq!(state_of(&w, "deaf"), Some(WorkerState::Running));
    }

    #[test]
    fn states_serialize_with_their_reason() -> Result<(), serde_json::Error> {
        let s = WorkerStatus {
            name: "push",
            state: WorkerState::Panicked("boom".into()),
            for_secs: 2,
        };
        assert_eq!(
            serde_json::to_value(&s)?,
            serde_json::json!({"name": "push", "state": "panicked", "reason": "boom", "for_secs": 2})
        );
        let r = WorkerStatus {
            state: WorkerState::Running,
            ..s
        };
        assert_eq!(
            serde_json::to_value(&r)?,
            serde_json::json!({"name": "push", "state": "running", "for_secs": 2})
        );
        Ok(())
    }
}
