//! `/meta/connect`: acknowledge acked batches, decide whether to hold, hold (long-polling),
//! and finish with the queued deliveries followed by the connect reply.

use super::{Request, handshake_advice};
use crate::ext::{Timesync, acked_batch};
use crate::message::{Message, Part, Reply, errors};
use crate::server::BayeuxServer;
use crate::session::{BrowserSlot, Parked, Removal, Session};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

/// A connect to answer, now or after holding it.
pub(crate) struct ConnectPlan {
    /// Its session.
    pub session: Arc<Session>,
    id: Option<Value>,
    /// How long it may be held.
    pub hold: Duration,
    generation: u64,
    /// A connect of this session was held when this one arrived (and is now superseded).
    replacing: bool,
    timesync: Option<Timesync>,
    multiple_clients: bool,
}

impl ConnectPlan {
    /// Whether it must be answered now: the session ended, a newer connect replaced it,
    /// something is queued for it, or a callback-polling request released it.
    pub(crate) fn ready(&self) -> bool {
        let st = self.session.state();
        st.removed.is_some()
            || st.connect_gen != self.generation
            || !st.queue.is_empty()
            || self.session.release.swap(false, Ordering::AcqRel)
    }
}

impl BayeuxServer {
    pub(super) fn connect(&self, msg: Message, req: &Request) -> Result<ConnectPlan, Reply> {
        let session = self.session_for(&msg, req)?;
        if msg.connection_type.as_deref().is_none_or(str::is_empty) {
            return Err(Reply::to("/meta/connect", msg.id)
                .fail(errors::missing("connectionType"), Some(self.retry_advice())));
        }
        let cap = self.inner.config.timeout;
        let asked = msg
            .advice
            .as_ref()
            .and_then(|a| a.get("timeout"))
            .and_then(Value::as_u64)
            .map(Duration::from_millis);
        let state = {
            let mut st = session.state();
            if st.ack
                && let Some(n) = acked_batch(msg.ext.as_ref())
            {
                st.acknowledge(n);
            }
            st.set_transport(req.transport, &self.inner.registry.transports);
            // The client has the replies to its previous connects: saved state is
            // confirmed one connect late (see `cluster::Saved`).
            if st.saved.on_connect() {
                st.dirty = true;
            }
            let now = !st.connected || !st.unacked.is_empty() || !st.queue.is_empty();
            st.connected = true;
            st.connect_gen += 1;
            (st.connect_gen, now, st.parked > 0)
        };
        let (generation, now, replacing) = state;
        session.release.store(false, Ordering::Release);
        if replacing {
            // Wake (and so supersede) the connect held for this session. One not counted yet
            // sees the new generation when it looks, after counting itself.
            session.wake.notify_waiters();
        }
        Ok(ConnectPlan {
            session,
            id: msg.id,
            hold: if now {
                Duration::ZERO
            } else {
                asked.map_or(cap, |a| a.min(cap))
            },
            generation,
            replacing,
            timesync: Timesync::read(msg.ext.as_ref()),
            multiple_clients: false,
        })
    }
}

/// Holds a long-poll connect until something is ready or its time is up. A browser that
/// already holds its quota of connects gets `multiple-clients` advice instead.
pub(crate) async fn hold_connect(server: &BayeuxServer, plan: &mut ConnectPlan, req: &Request) {
    if plan.hold.is_zero() {
        return;
    }
    // The session's own browser; a cookie sent with the request counts only for a session
    // that has none (one made over WebSocket), since a different one was refused already.
    let held = match (&plan.session.browser, &req.browser) {
        (Some(b), _) => Some(b.held.clone()),
        (None, Some(id)) => Some(server.inner.registry.browser(id).held),
        (None, None) => None,
    };
    // A connect of this same session still held is being superseded (it is answered now):
    // this one takes its place rather than counting as another client of the browser.
    let max = server.inner.config.max_sessions_per_browser;
    let _slot = match held.map(|h| BrowserSlot::take(h, max, plan.replacing)) {
        Some(None) => {
            plan.multiple_clients = true;
            return;
        }
        slot => slot.flatten(),
    };
    let _parked = Parked::new(plan.session.clone());
    let deadline = Instant::now() + plan.hold;
    loop {
        let mut notified = pin!(plan.session.wake.notified());
        notified.as_mut().enable();
        if plan.ready() {
            return;
        }
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep_until(deadline) => return,
        }
    }
}

/// Answers a connect into `out`: queued deliveries first, then the reply (with advice, ack
/// batch and timesync).
pub(crate) fn finish_connect(server: &BayeuxServer, plan: ConnectPlan, out: &mut Vec<Part>) {
    let mut st = plan.session.state();
    if let Some(why) = st.removed {
        drop(st);
        let reply = Reply::to("/meta/connect", plan.id);
        let reply = match why {
            Removal::Disconnected => Reply {
                successful: true,
                advice: Some(json!({"reconnect": "none", "interval": 0})),
                ..reply
            },
            Removal::Shutdown => reply.fail(
                errors::UNKNOWN_CLIENT.into(),
                Some(json!({"reconnect": "handshake", "interval": jitter_ms(2_000)})),
            ),
            // Another node owns the session now: the next connect reaches it.
            Removal::Moved => Reply {
                successful: true,
                advice: Some(server.retry_advice()),
                ..reply
            },
            Removal::Expired | Removal::Overflow => {
                reply.fail(errors::UNKNOWN_CLIENT.into(), Some(handshake_advice()))
            }
        };
        out.push(server.outgoing(reply).into());
        return;
    }
    let mut batch = None;
    if st.connect_gen == plan.generation {
        batch = st.take_for_connect(|m| out.push(Part::Shared(m)));
        if plan.hold.is_zero() || plan.multiple_clients {
            // (A held connect's end was recorded when it stopped being held.)
            st.last_active = std::time::Instant::now();
        }
    }
    drop(st);
    if !plan.multiple_clients
        && plan.timesync.is_none()
        && batch.is_none()
        && server.inner.extensions.is_empty()
    {
        // The usual reply, written without building a `Reply` (one per delivery round).
        out.push(usual_reply(server, plan.id.as_ref()).into());
        return;
    }
    let mut reply = Reply::to("/meta/connect", plan.id);
    if let Some(b) = batch {
        reply.ext("ack", json!(b));
    }
    let mut advice = server.retry_advice();
    if plan.multiple_clients {
        advice["multiple-clients"] = json!(true);
        advice["interval"] = json!(server.inner.config.multi_session_interval.as_millis());
    }
    reply.successful = true;
    reply.advice = Some(advice);
    if let Some(t) = plan.timesync {
        reply.ext("timesync", t.answer());
    }
    out.push(server.outgoing(reply).into());
}

/// `{"channel":"/meta/connect","id":…,"successful":true,"advice":…}`, field for field
/// what encoding the equivalent [`Reply`] gives.
fn usual_reply(server: &BayeuxServer, id: Option<&Value>) -> String {
    let advice = &server.inner.retry_advice_json;
    let mut out = String::with_capacity(80 + advice.len());
    out.push_str(r#"{"channel":"/meta/connect","#);
    if let Some(id) = id {
        out.push_str(r#""id":"#);
        // `Value`'s `Display` writes JSON; writing to a `String` cannot fail.
        let _ = write!(out, "{id}");
        out.push(',');
    }
    out.push_str(r#""successful":true,"advice":"#);
    out.push_str(advice);
    out.push('}');
    out
}

/// A random delay below `max_ms`, so clients told to come back do not return in lockstep.
pub(super) fn jitter_ms(max_ms: u64) -> u64 {
    let mut b = [0u8; 8];
    match getrandom::fill(&mut b) {
        Ok(()) => u64::from_le_bytes(b) % max_ms.max(1),
        Err(_) => max_ms / 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BayeuxConfig;

    #[test]
    fn the_usual_reply_is_what_encoding_the_reply_gives() {
        let server = BayeuxServer::builder(BayeuxConfig::default()).build();
        for id in [Some(json!("7")), Some(json!(12)), Some(json!("a\"b")), None] {
            let reply = Reply {
                successful: true,
                advice: Some(server.retry_advice()),
                ..Reply::to("/meta/connect", id.clone())
            };
            assert_eq!(usual_reply(&server, id.as_ref()), reply.encode());
        }
    }
}
