//! What a node does with a request naming a client it does not hold: look the client up in
//! the directory, then forward to a live owner, take over from a dead one, or let the
//! request be answered here (`402` when nobody holds the session). An owner is dead when
//! the [`super::Liveness`] port says so (or it is an earlier process on this node's own
//! address); an owner that does not answer a connection is waited for until its liveness
//! runs out (then taken over) or `owner_wait` passes (then `503`, retry).

use super::forward::{Outcome, forward};
use super::{Cluster, Entry, Owner, Recorded, Saved};
use crate::config::Transport;
use crate::message::{Message, Part, Reply};
use crate::process::Request;
use crate::server::BayeuxServer;
use crate::session::{ClientId, Session};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// How often a request waiting on an unreachable owner asks whether it is still alive.
const UNREACHABLE_POLL: Duration = Duration::from_millis(250);

/// Where a batch is served.
pub(crate) enum Route {
    /// Here (the session is here, was just taken over, or is unknown).
    Local,
    /// By its live owner on another node.
    Forward(Owner),
}

impl BayeuxServer {
    /// The cluster this server is a node of.
    pub(crate) fn cluster(&self) -> Option<&Cluster> {
        self.inner.cluster.as_deref()
    }

    /// Where a batch naming `client` must be served; a dead owner's session is taken over
    /// on the way.
    pub(crate) async fn route(
        &self,
        client: Option<&str>,
        transport: Transport,
        forwarded: bool,
    ) -> Route {
        let (Some(cluster), Some(id)) = (self.cluster(), client) else {
            return Route::Local;
        };
        if forwarded || ClientId::key(id).is_none() || self.inner.registry.get(id).is_some() {
            return Route::Local;
        }
        let id = ClientId::new(id);
        // Twice at most: a take-over lost to another node is followed to the new owner.
        for _ in 0..2 {
            let entry = match cluster.directory.get(&id).await {
                Ok(Some(e)) => e,
                Ok(None) => return Route::Local,
                Err(e) => {
                    tracing::debug!(%e, "session directory lookup failed");
                    return Route::Local;
                }
            };
            let me = cluster.me();
            if entry.owner.node == me.node {
                // Ended here, its removal not written yet.
                return Route::Local;
            }
            // A previous process on this node's own address is gone (this one replaced it).
            let gone = entry.owner.addr == me.addr
                || match cluster.liveness.alive(&entry.owner.node).await {
                    Ok(alive) => !alive,
                    Err(e) => {
                        tracing::debug!(%e, owner = %entry.owner.node, "node liveness unknown: forwarding");
                        false
                    }
                };
            if !gone {
                return Route::Forward(entry.owner);
            }
            if self.take_over(&id, &entry.owner, transport).await {
                return Route::Local;
            }
        }
        Route::Local
    }

    /// After `owner` did not answer a connection for `id`: waits (at most
    /// `owner_wait`) for its liveness to run out, then takes the session over.
    pub(crate) async fn owner_unreachable(
        &self,
        id: &ClientId,
        owner: &Owner,
        transport: Transport,
    ) -> Gone {
        let Some(cluster) = self.cluster() else {
            return Gone::StillAlive;
        };
        let until = tokio::time::Instant::now() + cluster.options.owner_wait;
        loop {
            if let Ok(false) = cluster.liveness.alive(&owner.node).await {
                return if self.take_over(id, owner, transport).await {
                    Gone::TakenHere
                } else {
                    Gone::TakenElsewhere
                };
            }
            if tokio::time::Instant::now() >= until {
                return Gone::StillAlive;
            }
            tokio::time::sleep(UNREACHABLE_POLL).await;
        }
    }

    /// Makes the session of `id` here, from the directory's entry, if `from` still owns it
    /// there; false if another node got it first (or the directory failed).
    pub(crate) async fn take_over(
        &self,
        id: &ClientId,
        from: &Owner,
        transport: Transport,
    ) -> bool {
        let Some(cluster) = self.cluster() else {
            return false;
        };
        let me = cluster.me();
        let taken = cluster
            .directory
            .take_over(id, &from.node, &me, cluster.options.lease)
            .await;
        let entry = match taken {
            Ok(Some(e)) => e,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(%e, client = %id, "session take-over failed");
                return false;
            }
        };
        tracing::info!(client = %id, from = %from.node, "session taken over");
        metrics::counter!("chinwag_bayeux_takeovers_total").increment(1);
        let recorded = Recorded::new(&me.node, cluster.options.lease.lease);
        self.restore(id, entry, transport, recorded)
    }

    fn restore(
        &self,
        id: &ClientId,
        entry: Entry,
        transport: Transport,
        recorded: Recorded,
    ) -> bool {
        let session = Arc::new(Session::new(id.clone(), None, transport));
        {
            let mut st = session.state();
            st.recorded = Some(recorded);
            st.ack = entry.ack;
            st.saved = Saved::restored(entry.state.clone());
        }
        let c = &self.inner.config;
        if self
            .inner
            .registry
            .insert(session.clone(), c.max_clients)
            .is_err()
        {
            return false;
        }
        for p in &entry.subscriptions {
            let _ = self
                .inner
                .registry
                .subscribe(&session, p, c.max_subscriptions);
        }
        // (Restored subscriptions are what the directory has already.)
        session.state().dirty = false;
        for l in &self.inner.listeners {
            l.restored(self, id, &entry.state);
        }
        true
    }

    /// Serves a batch whose session another node owns: forwarded there, or taken over when
    /// that node is gone. `None`: serve it here.
    pub(crate) async fn serve_elsewhere(
        &self,
        msgs: &[Message],
        req: &Request,
    ) -> Option<Vec<Part>> {
        let client = msgs.iter().find_map(|m| m.client_id.as_deref());
        // Twice at most: a dead owner's session taken by another node meanwhile is
        // forwarded there.
        for _ in 0..2 {
            let Route::Forward(owner) = self.route(client, req.transport, req.forwarded).await
            else {
                return None;
            };
            let cluster = self.cluster()?;
            match forward(self, cluster, &owner, msgs, req).await {
                Outcome::Answer(parts) => return Some(parts),
                Outcome::Unreachable => {
                    let id = ClientId::new(client?);
                    match self.owner_unreachable(&id, &owner, req.transport).await {
                        Gone::TakenHere => return None,
                        Gone::TakenElsewhere => {}
                        Gone::StillAlive => return Some(unavailable(msgs)),
                    }
                }
                Outcome::Failed(why) => {
                    tracing::warn!(owner = %owner.node, %why, "forwarding to a session's owner failed");
                    return Some(unavailable(msgs));
                }
            }
        }
        Some(unavailable(msgs))
    }
}

/// What became of a session whose owner did not answer.
pub(crate) enum Gone {
    /// The owner is dead and the session is here now.
    TakenHere,
    /// The owner is dead and another node took the session first.
    TakenElsewhere,
    /// The owner still counts as alive (`owner_wait` passed).
    StillAlive,
}

/// Each message answered "try again": its owner did not answer.
pub(crate) fn unavailable(msgs: &[Message]) -> Vec<Part> {
    msgs.iter()
        .map(|m| {
            let channel = m.channel.clone().unwrap_or_else(|| "/meta/unknown".into());
            Reply::to(channel, m.id.clone())
                .fail(
                    "503::owner_unavailable".into(),
                    Some(json!({"reconnect": "retry", "interval": 1000})),
                )
                .encode()
                .into()
        })
        .collect()
}
