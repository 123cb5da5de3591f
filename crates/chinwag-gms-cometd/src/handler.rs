//! The `/service/chatV2/{service}` handler: parse the publish, check who may make it, apply
//! it on the chat engine, and answer with a notification (or an error notification) to the
//! publisher. Every notification goes through the watch tables ([`crate::watch`]).

use crate::GmsCometd;
use crate::access::Caller;
use crate::notify::Notification;
use crate::op::{GmsOp, Key, RequestChat, parse};
use chinwag_bayeux::{BayeuxServer, ClientId, ServiceCall, ServiceHandler};
use chinwag_core::CoreError;
use chinwag_core::event::UserData;
use chinwag_core::ids::{ChatId, EventIndex, SecureKey, ServiceName};
use chinwag_core::roles::customers::{Credentials, CustomerOp, Selection};
use chinwag_gms_wire::comet_key::CometKey;

/// Server failures are logged at most once a second (with how many were not).
static SERVER_ERRORS: std::sync::LazyLock<chinwag_limits::LogLimiter> =
    std::sync::LazyLock::new(|| chinwag_limits::LogLimiter::new(std::time::Duration::from_secs(1)));

/// Why an operation failed: a GMS code and advice.
pub(crate) struct Failure {
    pub(crate) code: u16,
    pub(crate) advice: String,
    pub(crate) chat_ended: bool,
    /// Sent with `statusCode` 1 (retry later) instead of 2.
    pub(crate) temporary: bool,
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        let c = chinwag_gms_wire::code_of(&e);
        if c.internal
            && let Some(suppressed) = SERVER_ERRORS.allow()
        {
            tracing::error!(error = %e, suppressed, "CometD chat operation failed");
        }
        Self {
            code: c.code,
            advice: chinwag_gms_wire::advice_of(&e),
            chat_ended: c.chat_ended,
            temporary: c.temporary,
        }
    }
}

pub(crate) fn invalid(advice: impl Into<String>) -> Failure {
    Failure {
        code: 400,
        advice: advice.into(),
        chat_ended: false,
        temporary: false,
    }
}

/// A key resolved to the chat it names: the credentials, parsed once.
pub(crate) struct Resolved {
    pub(crate) service: ServiceName,
    pub(crate) chat_id: ChatId,
    pub(crate) secret: SecureKey,
    pub(crate) wire: String,
}

impl Resolved {
    /// The credentials of a read or operation; `origin`: the client's address, when the
    /// call counts against its rate limits (`None`: the server's own reads).
    fn creds(&self, origin: Option<std::net::IpAddr>) -> Credentials<'_> {
        Credentials {
            service: &self.service,
            chat_id: &self.chat_id,
            user_id: None,
            key: &self.secret,
            origin,
        }
    }
}

/// Where an answer goes, and who asked.
struct Ctx<'a> {
    server: &'a BayeuxServer,
    client: &'a ClientId,
    channel: &'a str,
    service: &'a str,
    caller: Caller,
}

type Failed = (Option<String>, Failure);

#[async_trait::async_trait]
impl ServiceHandler for GmsCometd {
    async fn handle(&self, call: ServiceCall<'_>) {
        let Some(service) = call.channel.strip_prefix("/service/chatV2/") else {
            return;
        };
        let ctx = Ctx {
            server: call.server,
            client: call.client,
            channel: call.channel,
            service,
            caller: Caller::of(&call),
        };
        let data: serde_json::Value = match serde_json::from_str(call.data.get()) {
            Ok(v) => v,
            Err(_) => return self.fail(&ctx, None, invalid("data must be JSON")),
        };
        let op = match parse(service, &data) {
            Ok(op) => op,
            Err(e) => {
                let key = data.get("secureKey").and_then(|k| k.as_str());
                return self.fail(&ctx, key, invalid(e.0));
            }
        };
        if let Err((key, f)) = self.apply(&ctx, op).await {
            self.fail(&ctx, key.as_deref(), f);
        }
    }
}

impl GmsCometd {
    fn fail(&self, ctx: &Ctx<'_>, key: Option<&str>, f: Failure) {
        let n = Notification::error(f.code, &f.advice, key, f.chat_ended, f.temporary);
        self.watchers.send(ctx.server, ctx.client, ctx.channel, &n);
    }

    fn resolve(&self, service: &str, key: &Key) -> Result<Resolved, Failed> {
        let wire = key.secure_key.clone();
        if let Some(k) = self.keys.open(&key.secure_key) {
            if k.service.as_str() != service {
                return Err((Some(wire), CoreError::ChatNotFound.into()));
            }
            return Ok(Resolved {
                service: k.service,
                chat_id: k.chat_id,
                secret: k.secret,
                wire,
            });
        }
        // A REST key works with an explicit chatId (clients mixing the two APIs).
        let Some(chat) = key.chat_id.clone() else {
            return Err((Some(wire), CoreError::ChatNotFound.into()));
        };
        Ok(Resolved {
            service: ServiceName::from(service),
            chat_id: ChatId::new(chat),
            secret: SecureKey::new(key.secure_key.clone()),
            wire,
        })
    }

    async fn apply(&self, ctx: &Ctx<'_>, op: GmsOp) -> Result<(), Failed> {
        match op {
            GmsOp::RequestChat(req) => self.request_chat(ctx, *req).await,
            GmsOp::RequestNotifications(key, from, data) => {
                let r = self.resolve(ctx.service, &key)?;
                // A reconnecting app repeats its push_notification_* keys; a new device
                // token (or a device the provider had dropped) takes effect from here.
                let push: UserData = data
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("push_notification_"))
                    .collect();
                if !push.is_empty() {
                    let op = CustomerOp::UpdateData { data: push };
                    self.customers
                        .act(ctx.creds(&r), op, Selection::Nothing)
                        .await
                        .map_err(|e| (Some(r.wire.clone()), e.into()))?;
                }
                self.notify_from(ctx, &r, from).await
            }
            GmsOp::Refresh(key, selection, preview) => {
                let r = self.resolve(ctx.service, &key)?;
                let read = match preview {
                    None => self.customers.read(ctx.creds(&r), selection).await,
                    Some(p) => {
                        let creds = ctx.creds(&r);
                        self.customers.read_typing(creds, &p, selection).await
                    }
                };
                let view = read.map_err(|e| (Some(r.wire.clone()), e.into()))?;
                // An explicit history read: sent as asked, not filtered by what was pushed.
                let n = Notification::ok(
                    &view.events,
                    Some(&r.wire),
                    view.ended,
                    view.monitored,
                    view.next_position,
                );
                self.watchers.send(ctx.server, ctx.client, ctx.channel, &n);
                Ok(())
            }
            GmsOp::Customer(key, op) => {
                let r = self.resolve(ctx.service, &key)?;
                let disconnect = matches!(op, CustomerOp::Disconnect);
                let selection = match self.watchers.sent(ctx.client, &r.chat_id) {
                    Some(sent) => Selection::From(EventIndex(sent + 1)),
                    None if disconnect => Selection::Nothing,
                    None => Selection::Last,
                };
                let view = self
                    .customers
                    .act(ctx.creds(&r), op, selection)
                    .await
                    .map_err(|e| (Some(r.wire.clone()), e.into()))?;
                // The answer to a disconnect carries no credentials (the key is now dead);
                // it still carries any event this client has not been sent (its own leave).
                let key = (!disconnect).then_some(r.wire.as_str());
                self.watchers
                    .reply(ctx.server, ctx.client, ctx.channel, key, &view);
                Ok(())
            }
        }
    }

    async fn request_chat(&self, ctx: &Ctx<'_>, req: RequestChat) -> Result<(), Failed> {
        self.admit(ctx.service, &ctx.caller, &req)
            .map_err(|f| (None, f))?;
        if !self.watchers.claim_request_chat(ctx.client) {
            let advice = "one requestChat per CometD client: open a new connection for a new chat";
            return Err((None, invalid(advice)));
        }
        let mut chat = req.chat;
        chat.origin = ctx.caller.remote;
        let view = match self.customers.request_chat(chat, Selection::Nothing).await {
            Ok(v) => v,
            Err(e) => {
                self.watchers.release_request_chat(ctx.client);
                return Err((None, e.into()));
            }
        };
        let service = ServiceName::from(ctx.service);
        let key = CometKey::new(&service, &view.chat_id, &view.secure_key);
        let Some(wire) = self.keys.seal(&key) else {
            return Err((None, CoreError::Random.into()));
        };
        let r = Resolved {
            service,
            chat_id: view.chat_id,
            secret: view.secure_key,
            wire,
        };
        self.notify_from(ctx, &r, 1).await
    }

    /// Watches a chat from `from` and answers with every event since, exactly once: in as
    /// many notifications as the answer byte budget needs, and until no event arrived
    /// during the reads.
    async fn notify_from(&self, ctx: &Ctx<'_>, r: &Resolved, from: u64) -> Result<(), Failed> {
        let fail = |e: CoreError| (Some(r.wire.clone()), Failure::from(e));
        // Authorize (and count the operation) before watching, so a wrong key never sees a
        // single event.
        self.customers
            .read(ctx.creds(r), Selection::Nothing)
            .await
            .map_err(fail)?;
        if self
            .watchers
            .watch(ctx.client, &r.chat_id, ctx.channel, &r.wire, from)
            .is_err()
        {
            return Err((
                Some(r.wire.clone()),
                invalid(format!(
                    "a CometD client may watch at most {} chats",
                    crate::watch::MAX_CHATS_PER_CLIENT
                )),
            ));
        }
        crate::watch::save(
            ctx.server,
            ctx.client,
            &r.chat_id,
            Some((ctx.channel, &r.wire, from.saturating_sub(1))),
            true,
        );
        self.read_on(ctx.server, ctx.client, ctx.channel, r, from)
            .await
            .map_err(fail)
    }

    /// Sends a watching client the transcript from `pos` on, until a read finds nothing new.
    async fn read_on(
        &self,
        server: &BayeuxServer,
        client: &ClientId,
        channel: &str,
        r: &Resolved,
        mut pos: u64,
    ) -> Result<(), CoreError> {
        loop {
            let read = self
                .customers
                .read(r.creds(None), Selection::From(EventIndex(pos)))
                .await;
            let view = read.inspect_err(|_| {
                self.watchers.unwatch(client, &r.chat_id);
                crate::watch::save(server, client, &r.chat_id, None, true);
            })?;
            self.watchers
                .reply(server, client, channel, Some(&r.wire), &view);
            match view.next_position {
                Some(next) if !view.complete && next > pos => pos = next,
                // The end of the transcript: read on if events arrived meanwhile.
                _ => match self.watchers.caught_up(client, &r.chat_id) {
                    Ok(()) => return Ok(()),
                    Err(next) => pos = next,
                },
            }
        }
    }

    /// Rebuilds a watch of a client whose session this node took over from a node that is
    /// gone: from the position after what that node had confirmed sending (so events may
    /// come twice, never not at all).
    pub(crate) async fn resume(
        &self,
        server: &BayeuxServer,
        client: &ClientId,
        channel: &str,
        wire: &str,
        sent: u64,
    ) {
        let Some(k) = self
            .keys
            .open(wire)
            .filter(|k| channel.strip_prefix("/service/chatV2/") == Some(k.service.as_str()))
        else {
            return;
        };
        // It made its one requestChat (or watches a chat it was given).
        self.watchers.claim_request_chat(client);
        if self
            .watchers
            .watch(client, &k.chat_id, channel, wire, sent + 1)
            .is_err()
        {
            return;
        }
        let r = Resolved {
            service: k.service,
            chat_id: k.chat_id,
            secret: k.secret,
            wire: wire.to_owned(),
        };
        if let Err(e) = self.read_on(server, client, channel, &r, sent + 1).await {
            tracing::debug!(%e, %client, "a taken-over watch could not be resumed");
        }
    }
}

impl Ctx<'_> {
    /// The credentials of the client's own operation (rate limited by its address).
    fn creds<'r>(&self, r: &'r Resolved) -> Credentials<'r> {
        r.creds(self.caller.remote)
    }
}
