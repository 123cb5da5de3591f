//! `/meta/handshake`: the flood limits (handshakes per client address, sessions in all),
//! version and transport negotiation, authorization, the new session, the browser cookie, and
//! the ack/timesync extensions.

use super::Request;
use super::connect::jitter_ms;
use crate::config::BayeuxConfig;
use crate::ext::{Timesync, wants_ack};
use crate::message::{Message, Reply, errors};
use crate::registry::NotAdded;
use crate::server::BayeuxServer;
use crate::session::{ClientId, Session, random_hex};
use chinwag_limits::AddrKey;
use serde_json::{Value, json};
use std::sync::Arc;

type Handshaken = (Reply, Option<Arc<Session>>, Option<Arc<str>>);

impl BayeuxServer {
    pub(super) fn handshake(&self, msg: Message, req: &Request) -> Handshaken {
        let reply = Reply::to("/meta/handshake", msg.id.clone());
        let fail = |error: String, reconnect: &str| {
            (
                Reply::to("/meta/handshake", msg.id.clone())
                    .fail(error, Some(json!({"reconnect": reconnect, "interval": 0}))),
                None,
                None,
            )
        };
        if let Some(err) = self.handshake_limits(req) {
            return (
                Reply::to("/meta/handshake", msg.id.clone()).fail(err.0, Some(err.1)),
                None,
                None,
            );
        }
        match &msg.version {
            Some(Value::String(v)) if v.starts_with('1') => {}
            Some(_) => return fail(errors::invalid("version", "version_unsupported"), "none"),
            None => return fail(errors::missing("version"), "none"),
        }
        let offered = self.inner.config.transports();
        let Some(theirs) = &msg.supported_connection_types else {
            return fail(errors::missing("supportedConnectionTypes"), "none");
        };
        if !offered
            .iter()
            .any(|t| theirs.iter().any(|c| c == t.as_str()))
        {
            return fail(
                format!("301:{}:connection types not supported", theirs.join(",")),
                "none",
            );
        }
        if let Err(d) = self.inner.authorizer.handshake(msg.ext.as_ref()) {
            return fail(errors::denied("handshake", &d.0), "none");
        }
        let Ok(id) = ClientId::generate() else {
            return fail("500::random_source_failed".into(), "retry");
        };
        let (browser, new_browser) = match (&req.browser, req.transport.is_http()) {
            (Some(b), _) => (Some(b.clone()), None),
            (None, true) => match random_hex::<12>() {
                Ok(b) => {
                    let b: Arc<str> = b.into();
                    (Some(b.clone()), Some(b))
                }
                Err(_) => return fail("500::random_source_failed".into(), "retry"),
            },
            (None, false) => (None, None),
        };
        let browser = browser.map(|b| self.inner.registry.browser(&b));
        let session = Arc::new(Session::new(id.clone(), browser, req.transport));
        let mut reply = Reply {
            successful: true,
            version: Some("1.0"),
            supported_connection_types: Some(offered.iter().map(|t| t.as_str()).collect()),
            client_id: Some(id.as_str().to_owned()),
            advice: Some(self.retry_advice()),
            ..reply
        };
        if wants_ack(msg.ext.as_ref()) {
            session.state().ack = true;
            reply.ext("ack", Value::Bool(true));
        }
        if let Some(t) = Timesync::read(msg.ext.as_ref()) {
            reply.ext("timesync", t.answer());
        }
        match self
            .inner
            .registry
            .insert(session.clone(), self.inner.config.max_clients)
        {
            Ok(()) => {}
            Err(NotAdded::Full) => {
                let (error, advice) = server_full();
                let reply = Reply::to("/meta/handshake", msg.id.clone()).fail(error, Some(advice));
                return (reply, None, None);
            }
            Err(NotAdded::BadId) => return fail("500::client_id_invalid".into(), "retry"),
        }
        for l in &self.inner.listeners {
            l.added(&id);
        }
        (reply, Some(session), new_browser)
    }

    /// The error and advice for a handshake over a limit: too many from its address, or too
    /// many sessions (checked again, exactly, when the session is added).
    fn handshake_limits(&self, req: &Request) -> Option<(String, Value)> {
        if let Some(ip) = req.remote
            && let Err(limited) = self.inner.handshakes.check(&AddrKey::from(ip))
        {
            metrics::counter!("chinwag_rate_limited_total", "limit" => "bayeux_handshake")
                .increment(1);
            let ms = limited.retry_after.as_nanos().div_ceil(1_000_000).max(1);
            return Some((
                errors::HANDSHAKE_RATE_LIMITED.into(),
                json!({"reconnect": "handshake", "interval": ms}),
            ));
        }
        (self.inner.registry.len() >= self.inner.config.max_clients).then(server_full)
    }

    /// The complete advice for a healthy session (clients reset omitted fields to their
    /// defaults, so every field is always sent).
    pub(crate) fn retry_advice(&self) -> Value {
        retry_advice(&self.inner.config)
    }
}

/// The usual advice: come back at once (after `interval`), held up to `timeout`.
pub(crate) fn retry_advice(c: &BayeuxConfig) -> Value {
    json!({
        "reconnect": "retry",
        "interval": c.interval.as_millis(),
        "timeout": c.timeout.as_millis(),
        "maxInterval": c.max_interval.as_millis(),
    })
}

/// The refusal of a handshake while the server holds `max_clients` sessions: come back in a
/// random 1 to 5 seconds, so refused clients do not return together.
fn server_full() -> (String, Value) {
    (
        errors::SERVER_FULL.into(),
        json!({"reconnect": "handshake", "interval": 1_000 + jitter_ms(4_000)}),
    )
}
