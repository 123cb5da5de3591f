//! The notifier: a named worker that turns transcript events from the engine's bus into
//! unsolicited notifications (exactly one event each) for the CometD clients watching.

use crate::GmsCometd;
use chinwag_bayeux::BayeuxServer;
use chinwag_core::bus::BusEvent;
use chinwag_core::ids::EventIndex;
use chinwag_core::roles::customers::{Credentials, Selection};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// Forwards bus events to watchers.
#[derive(Debug)]
pub struct NotifyWorker {
    gms: Arc<GmsCometd>,
    server: BayeuxServer,
    rx: tokio::sync::broadcast::Receiver<BusEvent>,
}

impl NotifyWorker {
    /// Subscribes to the bus now, so no event after this call is missed.
    pub fn new(gms: Arc<GmsCometd>, server: BayeuxServer) -> Self {
        let rx = gms.customers.bus().subscribe();
        Self { gms, server, rx }
    }

    /// Worker name for logs.
    pub fn name(&self) -> &'static str {
        "cometd-notify"
    }

    /// Runs until cancelled.
    pub async fn run(mut self, cancel: CancellationToken) {
        loop {
            let event = tokio::select! {
                () = cancel.cancelled() => break,
                e = self.rx.recv() => e,
            };
            match event {
                Ok(BusEvent::Transcript {
                    chat_id,
                    event,
                    ended,
                    monitored,
                    ..
                }) => {
                    self.gms
                        .watchers
                        .on_event(&self.server, &chat_id, &event, ended, monitored);
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "CometD notifier lagged: resynchronising watchers"
                    );
                    self.resync().await;
                }
                Err(RecvError::Closed) => break,
            }
        }
    }

    /// Sends every watcher what it missed, read from the engine.
    async fn resync(&self) {
        for (chat, w) in self.gms.watchers.all() {
            let Some(k) = self.gms.keys.open(&w.key) else {
                continue;
            };
            let creds = Credentials {
                service: &k.service,
                chat_id: &chat,
                user_id: None,
                key: &k.secret,
                origin: None,
            };
            let sel = Selection::From(EventIndex(w.sent + 1));
            if let Ok(view) = self.gms.customers.read(creds, sel).await {
                self.gms
                    .watchers
                    .reply(&self.server, &w.client, &w.channel, Some(&w.key), &view);
            }
        }
    }
}
