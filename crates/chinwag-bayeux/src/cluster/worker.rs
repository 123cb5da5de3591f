//! [`DirectoryWorker`]: keeps this node's entries in the session directory true, at no cost
//! while sessions are idle. When woken (subscriptions changed, state saved) it writes at
//! once what changed. Each entry's expiry is rewritten between half and three quarters of
//! the directory lease after its last write (spread at random, checked every eighth of the
//! lease), so a dead node's entries disappear. When this node's name changes (its liveness
//! was lost: it was thought dead) every session recorded under the old name is dropped
//! here with [`Removal::Moved`], like those a write finds owned by another node now.

use super::{Cluster, Owner, Renewal};
use crate::server::BayeuxServer;
use crate::session::{Removal, Session};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Sessions per write call.
const BATCH: usize = 500;
/// How long after a change of name every tick looks for sessions under the old one (a
/// handshake in flight may record one late).
const HOT: Duration = Duration::from_secs(5);

/// How the directory has one of this node's sessions.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// The name of this node the entry names.
    pub(crate) owner: Arc<str>,
    /// When its expiry is to be rewritten.
    pub(crate) due: Instant,
}

impl Recorded {
    /// Just written by `owner`, under directory lease `lease`.
    pub(crate) fn new(owner: &str, lease: Duration) -> Self {
        Self {
            owner: owner.into(),
            due: Instant::now() + spread(lease),
        }
    }
}

/// Between half and three quarters of `lease`, at random.
fn spread(lease: Duration) -> Duration {
    let mut b = [0u8; 2];
    let _ = getrandom::fill(&mut b);
    lease / 2 + (lease / 4).mul_f64(f64::from(u16::from_le_bytes(b)) / 65_536.0)
}

/// Writes this node's directory entries.
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
        let scan_every = (cluster.options.lease.lease / 8).max(Duration::from_millis(100));
        let mut tick = tokio::time::interval(scan_every.min(Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut name = cluster.liveness.me();
        let (mut scanned, mut hot_until) = (Instant::now(), Instant::now());
        loop {
            let woken = tokio::select! {
                () = cancel.cancelled() => break,
                _ = tick.tick() => false,
                () = cluster.wake.notified() => true,
            };
            let me = cluster.liveness.me();
            let now = Instant::now();
            if me != name {
                tracing::warn!(old = %name, new = %me, "this node's liveness was lost: its sessions are dropped here (other nodes take them over)");
                name.clone_from(&me);
                hot_until = now + HOT;
            }
            let scan = now < hot_until || now.duration_since(scanned) >= scan_every;
            if scan {
                scanned = now;
            } else if !woken {
                continue;
            }
            self.server.write_entries(cluster, &me, scan).await;
        }
    }
}

impl BayeuxServer {
    /// Writes this node's entries that changed (and, on a `scan`, those due for a new
    /// expiry, and drops the sessions recorded under another name of this node).
    async fn write_entries(&self, cluster: &Cluster, me: &str, scan: bool) {
        let now = Instant::now();
        let mut renewals = Vec::new();
        let mut stale: Vec<Arc<Session>> = Vec::new();
        for s in self.inner.registry.all() {
            let mut st = s.state();
            let Some(rec) = st.recorded.as_ref().filter(|_| st.removed.is_none()) else {
                continue;
            };
            if &*rec.owner != me {
                if scan {
                    drop(st);
                    stale.push(s);
                }
                continue;
            }
            let due = scan && rec.due <= now;
            if !st.dirty && !due {
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
        for s in stale {
            tracing::info!(client = %s.id, "session recorded under this node's lost name: dropped here");
            self.remove(&s, Removal::Moved);
        }
        let owner = Owner {
            node: me.to_owned(),
            addr: cluster.options.addr.clone(),
        };
        let lease = cluster.options.lease;
        for batch in renewals.chunks(BATCH) {
            match cluster.directory.renew(&owner, batch.to_vec(), lease).await {
                Ok(lost) => {
                    for r in batch {
                        let Some(s) = self.inner.registry.get(r.client.as_str()) else {
                            continue;
                        };
                        if lost.contains(&r.client) {
                            tracing::info!(client = %r.client, "session owned by another node now: dropped here");
                            self.remove(&s, Removal::Moved);
                        } else if let Some(rec) = s.state().recorded.as_mut() {
                            *rec = Recorded::new(me, lease.lease);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(%e, "session directory write failed");
                    // What was not written is written with the next write.
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
