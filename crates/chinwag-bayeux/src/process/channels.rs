//! `/meta/subscribe`, `/meta/unsubscribe`, `/meta/disconnect` and publishing to broadcast and
//! service channels.

use super::{Outcome, Request};
use crate::channel::{Channel, ChannelError, ChannelKind};
use crate::hooks::ServiceCall;
use crate::message::{Message, Reply, errors};
use crate::registry::NotSubscribed;
use crate::server::BayeuxServer;
use crate::session::{Removal, Session};
use serde_json::Value;

impl BayeuxServer {
    pub(super) fn subscribe(
        &self,
        msg: Message,
        req: &Request,
        out: &mut Outcome,
        on: bool,
    ) -> Reply {
        let meta = if on {
            "/meta/subscribe"
        } else {
            "/meta/unsubscribe"
        };
        let session = match self.session_for(&msg, req) {
            Ok(s) => s,
            Err(r) => return r,
        };
        out.session = Some(session.clone());
        let mut reply = Reply::to(meta, msg.id.clone());
        reply.subscription = msg.subscription.clone();
        let patterns: Vec<&str> = match &msg.subscription {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) if !a.is_empty() => {
                match a.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
                    Some(v) => v,
                    None => {
                        return reply.fail(
                            errors::invalid("subscription", "subscription_invalid"),
                            None,
                        );
                    }
                }
            }
            Some(_) => {
                return reply.fail(
                    errors::invalid("subscription", "subscription_invalid"),
                    None,
                );
            }
            None => return reply.fail(errors::missing("subscription"), None),
        };
        // Check all before changing anything, so a batch is all-or-nothing.
        for p in &patterns {
            match Channel::parse(p) {
                Err(_) => return reply.fail(errors::channel_invalid(p), None),
                Ok(ch) if ch.kind() == ChannelKind::Meta => {
                    return reply.fail(errors::channel_forbidden(p), None);
                }
                Ok(ch) if ch.kind() == ChannelKind::Broadcast && on => {
                    if let Err(d) = self.inner.authorizer.subscribe(&session.id, p) {
                        return reply.fail(errors::denied("subscribe", &d.0), None);
                    }
                }
                Ok(_) => {}
            }
        }
        let max = self.inner.config.max_subscriptions;
        if on && !room_for(&session, &patterns, max) {
            return reply.fail(errors::subscription_limit(max), None);
        }
        for p in patterns {
            // Service channels are request/response: answered, never recorded.
            if crate::channel::kind_of(p) != ChannelKind::Broadcast {
                continue;
            }
            if on {
                match self.inner.registry.subscribe(&session, p, max) {
                    Ok(()) => {}
                    Err(NotSubscribed::Gone) => {
                        return Reply::to(meta, msg.id).fail(
                            errors::UNKNOWN_CLIENT.into(),
                            Some(super::handshake_advice()),
                        );
                    }
                    // Only when subscribes of one session race; the check above is the rule.
                    Err(NotSubscribed::Full) => {
                        return reply.fail(errors::subscription_limit(max), None);
                    }
                }
            } else {
                self.inner.registry.unsubscribe(&session, p);
            }
        }
        if let Some(c) = self.cluster() {
            c.wake.notify_one();
        }
        reply.successful = true;
        reply
    }

    pub(super) fn disconnect_msg(&self, msg: Message, req: &Request) -> Reply {
        match self.session_for(&msg, req) {
            Ok(session) => {
                self.remove(&session, Removal::Disconnected);
                Reply {
                    successful: true,
                    client_id: Some(session.id.as_str().to_owned()),
                    ..Reply::to("/meta/disconnect", msg.id)
                }
            }
            Err(r) => r,
        }
    }

    pub(super) async fn publish_msg(
        &self,
        msg: Message,
        req: &Request,
        out: &mut Outcome,
    ) -> Reply {
        let name = msg.channel.clone().unwrap_or_default();
        let reply = Reply::to(name.clone(), msg.id.clone());
        let kind = match Channel::concrete(&name) {
            Ok(ch) => ch.kind(),
            Err(ChannelError::Wildcard | ChannelError::Invalid) => {
                return reply.fail(errors::channel_invalid(&name), None);
            }
        };
        if kind == ChannelKind::Meta {
            return reply.fail(errors::channel_forbidden(&name), None);
        }
        let session = match self.session_for(&msg, req) {
            Ok(s) => s,
            Err(r) => return r,
        };
        out.session = Some(session.clone());
        let Some(data) = msg.data.as_deref() else {
            return reply.fail(errors::missing("data"), None);
        };
        if kind == ChannelKind::Service {
            if let Some(handler) = self.service_for(&name) {
                handler
                    .handle(ServiceCall {
                        server: self,
                        client: &session.id,
                        channel: &name,
                        data,
                        ext: msg.ext.as_ref(),
                        remote: req.remote,
                        origin: req.origin.as_deref(),
                        headers: &req.headers,
                    })
                    .await;
            }
        } else {
            if let Err(d) = self.inner.authorizer.publish(&session.id, &name) {
                return reply.fail(errors::denied("publish", &d.0), None);
            }
            self.broadcast(&name, data.get());
        }
        // A publish reply never carries `data` (clients would take it for a delivery).
        Reply {
            successful: true,
            ..reply
        }
    }
}

/// Whether `session` may add the broadcast subscriptions among `patterns` (those it holds
/// already and repeats count once) and stay within `max`.
fn room_for(session: &Session, patterns: &[&str], max: usize) -> bool {
    let st = session.state();
    let room = max.saturating_sub(st.subscriptions.len());
    let mut fresh: Vec<&str> = Vec::new();
    for p in patterns {
        if crate::channel::kind_of(p) != ChannelKind::Broadcast
            || st.subscriptions.iter().any(|s| &**s == *p)
            || fresh.contains(p)
        {
            continue;
        }
        if fresh.len() == room {
            return false;
        }
        fresh.push(p);
    }
    true
}
