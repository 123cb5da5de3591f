//! The protocol engine, transport-free: a batch of parsed messages in, encoded replies out,
//! plus at most one `/meta/connect` for the transport to hold and finish.

// Errors here are the protocol replies themselves, built once per message; boxing them
// would only add an allocation on the error path.
#![allow(clippy::result_large_err)]

mod channels;
mod connect;
mod handshake;

pub(crate) use connect::{ConnectPlan, finish_connect, hold_connect};
pub(crate) use handshake::retry_advice;

use crate::config::Transport;
use crate::context::Forwarded;
use crate::message::{Message, Part, Reply, errors};
use crate::server::BayeuxServer;
use crate::session::Session;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;

/// Where a batch came from.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// The transport it arrived on.
    pub transport: Transport,
    /// The `BAYEUX_BROWSER` cookie sent with it (HTTP only).
    pub browser: Option<Arc<str>>,
    /// The client's address (behind trusted proxies, the one they forwarded); `None` when
    /// the transport does not know it (a router served without `chinwag-http`'s accept loop).
    pub remote: Option<IpAddr>,
    /// Its `Origin` (for JSONP, the origin of its `Referer` when it has no `Origin`; for
    /// WebSocket, the upgrade request's).
    pub origin: Option<Box<str>>,
    /// The forwarded headers it carried.
    pub headers: Forwarded,
    /// Another node of the cluster forwarded it (it is never forwarded again).
    pub forwarded: bool,
}

/// What the transport must send back.
#[derive(Default)]
pub(crate) struct Outcome {
    /// Encoded replies, in request order (the connect's comes later).
    pub replies: Vec<Part>,
    /// A connect to hold and finish.
    pub connect: Option<ConnectPlan>,
    /// A new browser id to set as a cookie.
    pub new_browser: Option<Arc<str>>,
    /// The session the batch acted for (the last one named).
    pub session: Option<Arc<Session>>,
}

/// Advice sent with an unknown-client reply.
pub(crate) fn handshake_advice() -> Value {
    json!({"reconnect": "handshake", "interval": 0})
}

impl BayeuxServer {
    /// Processes one batch.
    pub(crate) async fn process(&self, mut msgs: Vec<Message>, req: &Request) -> Outcome {
        let mut out = Outcome::default();
        if msgs.len() > self.inner.config.max_batch {
            let reply = Reply::to("/meta/unknown", None).fail(
                errors::invalid("batch", "too many messages in one request"),
                Some(json!({"reconnect": "retry", "interval": 0})),
            );
            out.replies.push(reply.encode().into());
            return out;
        }
        // A handshake must be alone: anything sent with it is ignored.
        if let Some(pos) = msgs
            .iter()
            .position(|m| m.channel.as_deref() == Some("/meta/handshake"))
        {
            let mut msg = msgs.swap_remove(pos);
            if let Err(reply) = self.incoming(&mut msg) {
                out.replies.push(self.outgoing(reply).into());
                return out;
            }
            let (mut reply, session, new_browser) = self.handshake(msg, req);
            if let (Some(c), Some(s)) = (self.cluster(), &session) {
                let ack = s.state().ack;
                let me = c.me();
                let created = c.directory.create(&s.id, &me, ack, c.options.lease).await;
                if created.is_ok() {
                    s.state().recorded = Some(crate::cluster::Recorded::new(
                        &me.node,
                        c.options.lease.lease,
                    ));
                }
                if let Err(e) = created {
                    tracing::warn!(%e, "session directory unavailable: handshake refused");
                    self.remove(s, crate::session::Removal::Disconnected);
                    reply = Reply::to("/meta/handshake", reply.id.take()).fail(
                        "503::session_directory_unavailable".into(),
                        Some(json!({"reconnect": "handshake", "interval": 1000})),
                    );
                    out.replies.push(self.outgoing(reply).into());
                    return out;
                }
            }
            out.replies.push(self.outgoing(reply).into());
            out.session = session;
            out.new_browser = new_browser;
            return out;
        }
        for mut msg in msgs {
            if let Err(reply) = self.incoming(&mut msg) {
                out.replies.push(self.outgoing(reply).into());
                continue;
            }
            let reply = match msg.channel.as_deref().unwrap_or_default() {
                "" => Some(
                    Reply::to("/meta/unknown", msg.id.clone())
                        .fail(errors::missing("channel"), None),
                ),
                "/meta/connect" => match self.connect(msg, req) {
                    Ok(plan) => {
                        out.session = Some(plan.session.clone());
                        if let Some(old) = out.connect.replace(plan) {
                            finish_connect(self, old, &mut out.replies);
                        }
                        None
                    }
                    Err(reply) => Some(reply),
                },
                "/meta/subscribe" => Some(self.subscribe(msg, req, &mut out, true)),
                "/meta/unsubscribe" => Some(self.subscribe(msg, req, &mut out, false)),
                "/meta/disconnect" => Some(self.disconnect_msg(msg, req)),
                // Boxed: a service call's state is large, and inline it would make every
                // request's processing (and the future of every held connect) carry it.
                _ => Some(Box::pin(self.publish_msg(msg, req, &mut out)).await),
            };
            if let Some(reply) = reply {
                out.replies.push(self.outgoing(reply).into());
            }
        }
        if req.transport == Transport::CallbackPolling && out.connect.is_none() {
            // JSONP requests run in order in the browser: a held poll must not block this one.
            if let Some(s) = &out.session {
                s.release_held();
            }
        }
        out
    }

    fn incoming(&self, msg: &mut Message) -> Result<(), Reply> {
        for e in &self.inner.extensions {
            if let Err(d) = e.incoming(msg) {
                let channel = msg
                    .channel
                    .clone()
                    .unwrap_or_else(|| "/meta/unknown".into());
                return Err(Reply::to(channel, msg.id.clone()).fail(
                    errors::denied("message", &d.0),
                    Some(json!({"reconnect": "none"})),
                ));
            }
        }
        Ok(())
    }

    /// Runs the extensions over a reply and encodes it.
    pub(crate) fn outgoing(&self, mut reply: Reply) -> String {
        for e in &self.inner.extensions {
            e.outgoing(&mut reply);
        }
        reply.encode()
    }

    /// The live session a message names, with the browser check for HTTP transports: a
    /// cookie naming another browser is refused; a missing cookie is accepted because the
    /// 128-bit client id is the secret and third-party cookies are often blocked.
    fn session_for(&self, msg: &Message, req: &Request) -> Result<Arc<Session>, Reply> {
        let unknown = || {
            Reply::to(msg.channel.clone().unwrap_or_default(), msg.id.clone())
                .fail(errors::UNKNOWN_CLIENT.into(), Some(handshake_advice()))
        };
        let id = msg.client_id.as_deref().ok_or_else(unknown)?;
        let session = self.inner.registry.get(id).ok_or_else(unknown)?;
        if req.transport.is_http()
            && let (Some(mine), Some(given)) = (&session.browser, &req.browser)
            && mine.id != *given
        {
            return Err(unknown());
        }
        Ok(session)
    }
}
