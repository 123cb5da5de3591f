//! [`DirectoryWorker`]: keeps this node's entries in the session directory true. Every third
//! of the lease it renews every session it holds (one batch per 500 sessions); when
//! woken (subscriptions changed, state saved) it writes at once what changed. Sessions the
//! directory says another node owns now (taken over while this node was thought dead) are
//! dropped here with [`Removal::Moved`].

use super::{Cluster, Renewal};
use crate::server::BayeuxServer;
use crate::session::Removal;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Sessions per renewal call.
const BATCH: usize = 500;

/// Renews this node's directory entries.
#[derive(Debug)]
pub struct DirectoryWorker {
    server: BayeuxServer,
}

impl DirectoryWorker {
    /// The worker for `server` (idle if it is not in a cluster).
    pub fn new(server: BayeuxServer) -> Self {
        Self { server }
    }

    /// Worker name for logs.
    pub fn name(&self) -> &'static str {
        "bayeux-directory"
    }

    /// Runs until cancelled.
    pub async fn run(self, cancel: CancellationToken) {
        let Some(cluster) = self.server.cluster() else {
            cancel.cancelled().await;
            return;
        };
        let period = (cluster.options.lease.lease / 3).max(Duration::from_millis(100));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let all = tokio::select! {
                () = cancel.cancelled() => break,
                _ = tick.tick() => true,
                () = cluster.wake.notified() => false,
            };
            self.server.renew(cluster, all).await;
        }
    }
}

impl BayeuxServer {
    /// Writes this node's sessions to the directory: all of them (`all`), or only those
    /// with changes.
    async fn renew(&self, cluster: &Cluster, all: bool) {
        let mut renewals = Vec::new();
        for s in self.inner.registry.all() {
            let mut st = s.state();
            if st.removed.is_some() || (!all && !st.dirty) {
                continue;
            }
            let dirty = std::mem::take(&mut st.dirty);
            renewals.push(Renewal {
                client: s.id.clone(),
                subscriptions: dirty
                    .then(|| st.subscriptions.iter().map(|p| p.to_string()).collect()),
                state: dirty.then(|| st.saved.confirmed().clone()),
            });
        }
        for batch in renewals.chunks(BATCH) {
            let me = &cluster.options.me;
            let lease = cluster.options.lease;
            match cluster.directory.renew(me, batch.to_vec(), lease).await {
                Ok(lost) => {
                    for id in lost {
                        if let Some(s) = self.inner.registry.get(id.as_str()) {
                            tracing::info!(client = %id, "session owned by another node now: dropped here");
                            self.remove(&s, Removal::Moved);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(%e, "session directory renewal failed");
                    // What was not written is written with the next renewal.
                    for r in batch.iter().filter(|r| r.state.is_some()) {
                        if let Some(s) = self.inner.registry.get(r.client.as_str()) {
                            s.state().dirty = true;
                        }
                    }
                }
            }
        }
    }
}
