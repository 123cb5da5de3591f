//! GMS Chat API Version 2 over CometD: the `/service/chatV2/{service}` channel on a
//! [`chinwag_bayeux::BayeuxServer`], driving the same [`ChatEngine`] as the REST API.
//!
//! # Layout
//! - [`op`]: a publish's `data` parsed into a typed [`op::GmsOp`].
//! - `handler`: applies an operation and answers the publisher.
//! - `watch`: which clients watch which chats, and the exactly-once, in-order sending rule.
//! - [`notify`]: the notification `data` shape.
//! - [`worker`]: [`NotifyWorker`], turning bus events into unsolicited notifications.
//!
//! Choices: the CometD `secureKey` is a [`chinwag_core::comet_key::CometKey`] (it names the
//! chat, so `chatId`/`userId`/`alias` are optional and echoed as placeholders); `requestChat`
//! answers with every event so far; operation answers carry the events the client has not
//! been sent yet (usually the one the operation made, sometimes none when the unsolicited
//! notification got there first).

mod handler;
pub mod notify;
pub mod op;
mod watch;
pub mod worker;

use chinwag_bayeux::{BayeuxConfig, BayeuxServer, ClientId, Removal, SessionListener};
use chinwag_core::ChatEngine;
use std::collections::HashMap;
use std::sync::Arc;
pub use worker::NotifyWorker;

/// The GMS CometD service.
#[derive(Debug)]
pub struct GmsCometd {
    engine: Arc<ChatEngine>,
    basic_auth: HashMap<String, (String, String)>,
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
}

/// Builds the Bayeux server with the GMS service on it. `basic_auth` maps a service name to
/// the credentials its `requestChat` must carry in `auth`; `broadcast` opens plain
/// publish/subscribe channels on the same endpoint.
pub fn build(
    engine: Arc<ChatEngine>,
    config: BayeuxConfig,
    basic_auth: HashMap<String, (String, String)>,
    broadcast: bool,
) -> (BayeuxServer, Arc<GmsCometd>) {
    let gms = Arc::new(GmsCometd {
        engine,
        basic_auth,
        watchers: watch::Watchers::default(),
    });
    let server = BayeuxServer::builder(config)
        .service("/service/chatV2/*", gms.clone())
        .listener(Arc::new(Listener(gms.clone())))
        .authorizer(Arc::new(BroadcastPolicy(broadcast)))
        .build();
    (server, gms)
}
