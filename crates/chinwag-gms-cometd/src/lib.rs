//! GMS Chat API Version 2 over CometD: the `/service/chatV2/{service}` channel on a
//! [`chinwag_bayeux::BayeuxServer`], driving the engine through the same [`Customers`]
//! handle as the REST API.
//!
//! # Layout
//! - [`op`]: a publish's `data` parsed into a typed [`op::GmsOp`].
//! - [`access`]: who may start a chat (apikey, basic auth, allowed origins).
//! - `handler`: applies an operation and answers the publisher.
//! - `watch`: which clients watch which chats, and the exactly-once, in-order sending rule.
//! - [`notify`]: the notification `data` shape.
//! - [`worker`]: [`NotifyWorker`], turning bus events into unsolicited notifications.
//!
//! Choices: the CometD `secureKey` is a sealed [`chinwag_gms_wire::comet_key::CometKey`] (it
//! names the chat, so `chatId`/`userId`/`alias` are optional and echoed as placeholders);
//! `requestChat` answers with every event so far (in several notifications if the
//! transcript is long); operation answers carry the events the client has not been sent yet
//! (usually the one the operation made, sometimes none when the unsolicited notification got
//! there first).

pub mod access;
mod handler;
pub mod notify;
pub mod op;
mod watch;
pub mod worker;

pub use access::CometAccess;
use chinwag_bayeux::{BayeuxConfig, BayeuxServer, ClientId, Removal, SessionListener};
use chinwag_core::roles::Customers;
use chinwag_gms_wire::comet_key::CometKeys;
use std::collections::HashMap;
use std::sync::Arc;
pub use worker::NotifyWorker;

/// The GMS CometD service.
#[derive(Debug)]
pub struct GmsCometd {
    customers: Customers,
    access: HashMap<String, CometAccess>,
    keys: Arc<CometKeys>,
    watchers: watch::Watchers,
}

impl GmsCometd {
    /// Whether a CometD client with a live session watches `chat` (it is forgotten when its
    /// Bayeux session ends: a disconnect, or `maxInterval` without a connect).
    pub fn is_watched(&self, chat: &chinwag_core::ids::ChatId) -> bool {
        self.watchers.is_watched(chat)
    }
}

/// Broadcast channels on the GMS endpoint are off unless configured: chat clients only need
/// `/service/chatV2/*`, and an open endpoint would let anyone run chat rooms on it.
struct BroadcastPolicy(bool);

impl chinwag_bayeux::Authorizer for BroadcastPolicy {
    fn subscribe(&self, _c: &ClientId, _p: &str) -> Result<(), chinwag_bayeux::Denied> {
        self.check()
    }
    fn publish(&self, _c: &ClientId, _ch: &str) -> Result<(), chinwag_bayeux::Denied> {
        self.check()
    }
}

impl BroadcastPolicy {
    fn check(&self) -> Result<(), chinwag_bayeux::Denied> {
        if self.0 {
            Ok(())
        } else {
            Err(chinwag_bayeux::Denied("broadcast_disabled".into()))
        }
    }
}

struct Listener(Arc<GmsCometd>);

impl SessionListener for Listener {
    fn removed(&self, client: &ClientId, _why: Removal) {
        self.0.watchers.client_gone(client);
    }

    /// A session taken over from a node that is gone: its watches are rebuilt from what
    /// that node saved, and the events since are sent again (at least once).
    fn restored(
        &self,
        server: &BayeuxServer,
        client: &ClientId,
        state: &chinwag_bayeux::cluster::State,
    ) {
        for (name, value) in state {
            if !name.starts_with(watch::STATE_PREFIX) {
                continue;
            }
            let Ok(w) = serde_json::from_str::<watch::SavedWatch>(value) else {
                continue;
            };
            let (gms, server, client) = (self.0.clone(), server.clone(), client.clone());
            tokio::spawn(async move {
                gms.resume(&server, &client, &w.channel, &w.key, w.sent)
                    .await;
            });
        }
    }
}

/// The chats watched over CometD, as the engine asks before ending a silent chat.
impl chinwag_core::ports::Presence for GmsCometd {
    fn is_watched(&self, chat: &chinwag_core::ids::ChatId) -> bool {
        self.watchers.is_watched(chat)
    }
}

/// Builds the Bayeux server with the GMS service on it. `access` maps a service name to who
/// may start its chats; `keys` seal and open CometD secure keys; `broadcast` opens plain
/// publish/subscribe channels on the same endpoint; `cluster` makes it a node of a cluster
/// (each client's watches are saved for a take-over and rebuilt by it).
pub fn build(
    customers: Customers,
    config: BayeuxConfig,
    access: HashMap<String, CometAccess>,
    keys: Arc<CometKeys>,
    broadcast: bool,
    cluster: Option<chinwag_bayeux::cluster::Cluster>,
) -> (BayeuxServer, Arc<GmsCometd>) {
    let gms = Arc::new(GmsCometd {
        customers,
        access,
        keys,
        watchers: watch::Watchers::default(),
    });
    let mut builder = BayeuxServer::builder(config)
        .service("/service/chatV2/*", gms.clone())
        .listener(Arc::new(Listener(gms.clone())))
        .authorizer(Arc::new(BroadcastPolicy(broadcast)));
    if let Some(c) = cluster {
        builder = builder.cluster(c);
    }
    let server = builder.build();
    (server, gms)
}
