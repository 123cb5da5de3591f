//! The `/service/chatV2/{service}` handler: parse the publish, apply it on the chat engine,
//! and answer with a notification (or an error notification) to the publisher.

use crate::GmsCometd;
use crate::notify::Notification;
use crate::op::{Auth, GmsOp, Key, parse};
use base64::Engine;
use chinwag_bayeux::{BayeuxServer, ClientId, ServiceCall, ServiceHandler};
use chinwag_core::CoreError;
use chinwag_core::comet_key::CometKey;
use chinwag_core::engine::{Credentials, CustomerOp, Selection};
use chinwag_core::event::UserData;
use chinwag_core::ids::{ChatId, EventIndex};
use subtle::ConstantTimeEq;

/// Why an operation failed: a GMS code and advice.
struct Failure {
    code: u16,
    advice: String,
    chat_ended: bool,
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        let c = chinwag_gms_wire::code_of(&e);
        if c.internal {
            tracing::error!(error = %e, "CometD chat operation failed");
        }
        Self {
            code: c.code,
            advice: if c.internal {
                "unexpected service error".into()
            } else {
                e.to_string()
            },
            chat_ended: c.chat_ended,
        }
    }
}

fn invalid(advice: impl Into<String>) -> Failure {
    Failure {
        code: 400,
        advice: advice.into(),
        chat_ended: false,
    }
}

/// A key resolved to the chat it names.
struct Resolved {
    chat_id: ChatId,
    secret: String,
    wire: String,
}

fn resolve(service: &str, key: &Key) -> Result<Resolved, Failure> {
    if let Some(k) = CometKey::decode(&key.secure_key) {
        if k.service.as_str() != service {
            return Err(CoreError::ChatNotFound.into());
        }
        return Ok(Resolved {
            chat_id: k.chat_id,
            secret: k.secret,
            wire: key.secure_key.clone(),
        });
    }
    // A REST key works with an explicit chatId (clients mixing the two APIs).
    let chat = key.chat_id.clone().ok_or(CoreError::ChatNotFound)?;
    Ok(Resolved {
        chat_id: ChatId::new(chat),
        secret: key.secure_key.clone(),
        wire: key.secure_key.clone(),
    })
}

#[async_trait::async_trait]
impl ServiceHandler for GmsCometd {
    async fn handle(&self, call: ServiceCall<'_>) {
        let Some(service) = call.channel.strip_prefix("/service/chatV2/") else {
            return;
        };
        let data: serde_json::Value = match serde_json::from_str(call.data.get()) {
            Ok(v) => v,
            Err(_) => {
                return self.fail(
                    call.server,
                    call.client,
                    call.channel,
                    None,
                    invalid("data must be JSON"),
                );
            }
        };
        let op = match parse(service, &data) {
            Ok(op) => op,
            Err(e) => {
                let key = data.get("secureKey").and_then(|k| k.as_str());
                return self.fail(call.server, call.client, call.channel, key, invalid(e.0));
            }
        };
        if let Err((key, f)) = self
            .apply(call.server, call.client, call.channel, service, op)
            .await
        {
            self.fail(call.server, call.client, call.channel, key.as_deref(), f);
        }
    }
}

impl GmsCometd {
    fn fail(
        &self,
        server: &BayeuxServer,
        client: &ClientId,
        channel: &str,
        key: Option<&str>,
        f: Failure,
    ) {
        let n = Notification::error(f.code, &f.advice, key, f.chat_ended);
        let _ = server.deliver(client, channel, &n);
    }

    fn check_auth(&self, service: &str, auth: Option<&Auth>) -> bool {
        let Some((user, pass)) = self.basic_auth.get(service) else {
            return true;
        };
        let expected = format!("{user}:{pass}");
        let given = match auth {
            Some(Auth::Open(u, p)) => format!("{u}:{p}"),
            Some(Auth::Encoded(e)) => base64::engine::general_purpose::STANDARD
                .decode(e.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default(),
            None => String::new(),
        };
        given.as_bytes().ct_eq(expected.as_bytes()).into()
    }

    async fn apply(
        &self,
        server: &BayeuxServer,
        client: &ClientId,
        channel: &str,
        service: &str,
        op: GmsOp,
    ) -> Result<(), (Option<String>, Failure)> {
        match op {
            GmsOp::RequestChat(req, auth) => {
                if !self.check_auth(service, auth.as_ref()) {
                    return Err((None, CoreError::Unauthorized.into()));
                }
                if !self.watchers.claim_request_chat(client) {
                    return Err((
                        None,
                        invalid(
                            "one requestChat per CometD client: open a new connection for a new chat",
                        ),
                    ));
                }
                let view = match self.engine.request_chat(*req, Selection::Nothing).await {
                    Ok(v) => v,
                    Err(e) => {
                        self.watchers.release_request_chat(client);
                        return Err((None, e.into()));
                    }
                };
                let key = CometKey::new(
                    &chinwag_core::ids::ServiceName::new(service),
                    &view.chat_id,
                    &view.secure_key,
                )
                .encode();
                let r = Resolved {
                    chat_id: view.chat_id,
                    secret: view.secure_key.as_str().to_owned(),
                    wire: key,
                };
                self.notify_from(server, client, channel, service, &r, 1)
                    .await
            }
            GmsOp::RequestNotifications(key, from, data) => {
                let r = resolve(service, &key).map_err(|f| (Some(key.secure_key.clone()), f))?;
                // A reconnecting app repeats its push_notification_* keys; a new device
                // token (or a device the provider had dropped) takes effect from here.
                let push: UserData = data
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("push_notification_"))
                    .collect();
                if !push.is_empty() {
                    let op = CustomerOp::UpdateData { data: push };
                    self.engine
                        .customer(creds(service, &r), op, Selection::Nothing)
                        .await
                        .map_err(|e| (Some(r.wire.clone()), e.into()))?;
                }
                self.notify_from(server, client, channel, service, &r, from)
                    .await
            }
            GmsOp::Refresh(key, selection, preview) => {
                let r = resolve(service, &key).map_err(|f| (Some(key.secure_key.clone()), f))?;
                let view = self
                    .engine
                    .customer(
                        creds(service, &r),
                        CustomerOp::Refresh { preview },
                        selection,
                    )
                    .await
                    .map_err(|e| (Some(r.wire.clone()), e.into()))?;
                // An explicit history read: sent as asked, not filtered by what was pushed.
                let n = Notification::ok(
                    &view.events,
                    Some(&r.wire),
                    view.ended,
                    view.monitored,
                    view.next_position,
                );
                let _ = server.deliver(client, channel, &n);
                Ok(())
            }
            GmsOp::Customer(key, op) => {
                let r = resolve(service, &key).map_err(|f| (Some(key.secure_key.clone()), f))?;
                let disconnect = matches!(op, CustomerOp::Disconnect);
                let selection = match self.watchers.sent(client, &r.chat_id) {
                    Some(sent) => Selection::From(EventIndex(sent + 1)),
                    None if disconnect => Selection::Nothing,
                    None => Selection::Last,
                };
                let view = self
                    .engine
                    .customer(creds(service, &r), op, selection)
                    .await
                    .map_err(|e| (Some(r.wire.clone()), e.into()))?;
                // The answer to a disconnect carries no credentials (the key is now dead);
                // it still carries any event this client has not been sent (its own leave).
                let key = (!disconnect).then_some(r.wire.as_str());
                self.watchers.reply(server, client, channel, key, &view);
                Ok(())
            }
        }
    }

    /// Watches a chat from `from` and answers with every event since, exactly once.
    async fn notify_from(
        &self,
        server: &BayeuxServer,
        client: &ClientId,
        channel: &str,
        service: &str,
        r: &Resolved,
        from: u64,
    ) -> Result<(), (Option<String>, Failure)> {
        let fail = |e: CoreError| (Some(r.wire.clone()), Failure::from(e));
        // Authorize before watching, so a wrong key never sees a single event.
        self.engine
            .customer(
                creds(service, r),
                CustomerOp::Refresh { preview: None },
                Selection::Nothing,
            )
            .await
            .map_err(fail)?;
        self.watchers
            .watch(client, &r.chat_id, channel, &r.wire, from);
        let view = self
            .engine
            .customer(
                creds(service, r),
                CustomerOp::Refresh { preview: None },
                Selection::From(EventIndex(from)),
            )
            .await
            .map_err(|e| {
                self.watchers.unwatch(client, &r.chat_id);
                fail(e)
            })?;
        self.watchers
            .reply(server, client, channel, Some(&r.wire), &view);
        Ok(())
    }
}

fn creds<'a>(service: &'a str, r: &'a Resolved) -> Credentials<'a> {
    Credentials {
        service,
        chat_id: r.chat_id.as_str(),
        user_id: None,
        secure_key: &r.secret,
    }
}
