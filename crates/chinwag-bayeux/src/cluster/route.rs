//! What a node does with a request naming a client it does not hold: look the client up in
//! the directory, then forward to a live owner, take over from a dead one, or let the
//! request be answered here (`402` when nobody holds the session).

use super::forward::{Outcome, forward};
use super::{Cluster, Entry, Owner, Saved};
use crate::config::Transport;
use crate::message::{Message, Part, Reply};
use crate::process::Request;
use crate::server::BayeuxServer;
use crate::session::{ClientId, Session};
use serde_json::json;
use std::sync::Arc;

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
        let entry = match cluster.directory.get(&id).await {
            Ok(Some(e)) => e,
            Ok(None) => return Route::Local,
            Err(e) => {
                tracing::debug!(%e, "session directory lookup failed");
                return Route::Local;
            }
        };
        let me = &cluster.options.me;
        if entry.owner.node == me.node {
            // Ended here, its removal not written yet.
            return Route::Local;
        }
        // A previous process on this node's own address is gone (this one replaced it).
        if !entry.live || entry.owner.addr == me.addr {
            self.take_over(&id, &entry.owner, transport).await;
            return Route::Local;
        }
        Route::Forward(entry.owner)
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
        let taken = cluster
            .directory
            .take_over(id, &from.node, &cluster.options.me, cluster.options.lease)
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
        self.restore(id, entry, transport)
    }

    fn restore(&self, id: &ClientId, entry: Entry, transport: Transport) -> bool {
        let session = Arc::new(Session::new(id.clone(), None, transport));
        {
            let mut st = session.state();
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
        let Route::Forward(owner) = self.route(client, req.transport, req.forwarded).await else {
            return None;
        };
        let cluster = self.cluster()?;
        match forward(self, cluster, &owner, msgs, req).await {
            Outcome::Answer(parts) => Some(parts),
            Outcome::Unreachable => {
                let id = ClientId::new(client?);
                self.take_over(&id, &owner, req.transport).await;
                None
            }
            Outcome::Failed(why) => {
                tracing::warn!(owner = %owner.node, %why, "forwarding to a session's owner failed");
                Some(unavailable(msgs))
            }
        }
    }
}

/// Each message answered "try again": its owner did not answer.
fn unavailable(msgs: &[Message]) -> Vec<Part> {
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
