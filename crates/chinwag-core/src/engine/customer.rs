//! Customer-side operations (reached through [`crate::roles::Customers`]): request a chat,
//! then read it or operate on it with its credentials.

use super::{ChatEngine, Slot, lock};
use crate::bus::BusEvent;
use crate::engine::view::{ChatView, Selection};
use crate::error::CoreError;
use crate::event::EventKind;
use crate::ids::{FreshIds, ServiceName};
use crate::roles::customers::{Credentials, CustomerOp, NewChat};
use crate::session::{CLIENT, Change, Session, SessionRecord, client_participant};
use crate::settings::{ServiceLimits, ServiceSettings};
use crate::validate;
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl ChatEngine {
    /// Starts a chat: validates, commits the client's join (and first message), queues it.
    pub(crate) async fn request_chat(
        &self,
        req: NewChat,
        selection: Selection,
    ) -> Result<ChatView, CoreError> {
        self.check_serving()?;
        let service = self
            .services
            .get(&req.service)
            .ok_or(CoreError::UnknownService)?;
        if service.settings.maintenance {
            return Err(CoreError::Unavailable);
        }
        service.admit(req.origin, true)?;
        validate::user_data(&req.user_data, &service.settings.limits)?;
        let name = validate::display_name(
            req.nickname.as_deref(),
            req.first_name.as_deref(),
            req.last_name.as_deref(),
        )?;
        if let Some(email) = req.email.as_deref().filter(|e| !e.is_empty()) {
            validate::email(email)?;
        }
        let max = service.settings.max_message_length;
        for text in [req.text.as_deref(), req.subject.as_deref()]
            .into_iter()
            .flatten()
        {
            validate::text_len(text, max)?;
        }
        // Reserve a slot under the limit before doing any work.
        let reserved = service
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < service.settings.max_sessions).then_some(n + 1)
            });
        if reserved.is_err() {
            return Err(CoreError::ServiceFull);
        }
        let result = self.create_session(req, name, &service.settings.name).await;
        if result.is_err() {
            service.open.fetch_sub(1, Ordering::AcqRel);
        }
        let slot = result?;
        let queue = &service.settings.queue;
        let budget = service.settings.limits.max_response_bytes;
        let view = ChatView::of(&lock(&slot.state), selection, budget);
        slot.fetched(&view);
        let (chat_id, since) = (view.chat_id.clone(), self.now_ms());
        // Routing that fails (a shared routing store out of reach) fails the request: the
        // customer never learns of the chat, which ends as abandoned.
        self.route(|r, _| {
            r.enqueue(queue, chat_id.clone(), service.settings.name.clone(), since);
            ((), Vec::new())
        })
        .await
        .inspect_err(|err| {
            tracing::warn!(chat = %chat_id.as_str(), %err, "a new chat could not be queued");
        })?;
        Ok(view)
    }

    async fn create_session(
        &self,
        req: NewChat,
        name: String,
        service: &ServiceName,
    ) -> Result<Arc<Slot>, CoreError> {
        let ids = FreshIds::generate().map_err(|_| CoreError::Random)?;
        let now = self.now_ms();
        let clean = |s: Option<String>| s.filter(|s| !s.is_empty());
        let record = SessionRecord {
            chat_id: ids.chat_id.clone(),
            service: service.clone(),
            user_id: ids.user_id,
            secure_key: ids.secure_key,
            alias: self.settings.alias,
            created_ms: now,
            ended_ms: None,
            subject: clean(req.subject),
            email: clean(req.email),
            first_name: clean(req.first_name),
            last_name: clean(req.last_name),
            user_data: req.user_data,
            participants: vec![client_participant(&name, now)],
            downloads: Default::default(),
        };
        let (session, change) = Session::start(record, now, req.text.as_deref());
        let slot = Slot::new(session, 1, true, now);
        let mut pushes = {
            let s = lock(&slot.state);
            self.plan_pushes(&slot, &s.record, &change.events)
        };
        self.stamp_pushes(&mut pushes).await?;
        self.schedule_timers(&ids.chat_id, service, now).await?;
        self.store
            .commit(crate::ports::Commit {
                chat_id: ids.chat_id.clone(),
                base_rev: 0,
                record: change.record,
                events: change.events.clone(),
                pushes: pushes.clone(),
            })
            .await?;
        metrics::counter!("chinwag_chats_created_total").increment(1);
        self.pushes.send(pushes);
        self.sessions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(ids.chat_id.clone(), slot.clone());
        for event in change.events {
            self.bus.publish(BusEvent::Transcript {
                chat_id: ids.chat_id.clone(),
                agents: Arc::new([]),
                event: Arc::new(event),
                ended: false,
                monitored: false,
            });
        }
        Ok(slot)
    }

    /// The chat `creds` name if they match it; `fresh`: brought up to the stored revision
    /// first (on a shared store).
    pub(super) async fn authorize(
        &self,
        creds: Credentials<'_>,
        fresh: bool,
    ) -> Result<Arc<Slot>, CoreError> {
        let id = creds.chat_id;
        let slot = if fresh {
            self.fresh_slot(id).await?
        } else {
            self.slot_or_load(id).await?
        };
        let slot = slot.ok_or(CoreError::ChatNotFound)?;
        {
            let s = lock(&slot.state);
            let r = &s.record;
            let key_ok = r.secure_key.matches(creds.key);
            let user_ok = creds.user_id.is_none_or(|u| *u == r.user_id);
            if !(key_ok && user_ok && r.service == *creds.service) {
                return Err(CoreError::ChatNotFound);
            }
        }
        Ok(slot)
    }

    /// The customer's service, with this request admitted under its rate limits.
    pub(super) fn admit_customer(
        &self,
        creds: Credentials<'_>,
    ) -> Result<&ServiceSettings, CoreError> {
        let state = self.service_state(creds.service)?;
        state.admit(creds.origin, false)?;
        Ok(&state.settings)
    }

    /// A read: the view asked for, the typing preview (if any) passed on to agents, and what
    /// the customer has now fetched (a read selecting nothing acknowledges every event so
    /// far, which stops reliable push resends, as Chat Server does). One fresh copy of a
    /// shared chat (a revision read when nothing is new); nothing is committed.
    pub(crate) async fn read(
        &self,
        creds: Credentials<'_>,
        preview: Option<&str>,
        selection: Selection,
    ) -> Result<ChatView, CoreError> {
        let service = self.admit_customer(creds)?;
        let slot = self.authorize(creds, true).await?;
        slot.client_seen_ms.store(self.now_ms(), Ordering::Relaxed);
        if service.maintenance {
            return Err(CoreError::Unavailable);
        }
        let (max, budget) = (
            service.max_message_length,
            service.limits.max_response_bytes,
        );
        self.refresh(&slot, preview, selection, max, budget)
    }

    /// Applies a customer operation and returns the chat as `selection` asks.
    pub(crate) async fn customer(
        &self,
        creds: Credentials<'_>,
        op: CustomerOp,
        selection: Selection,
    ) -> Result<ChatView, CoreError> {
        let service = self.admit_customer(creds)?;
        let slot = self.authorize(creds, !always_commits(&op)).await?;
        slot.client_seen_ms.store(self.now_ms(), Ordering::Relaxed);
        if service.maintenance {
            return Err(CoreError::Unavailable);
        }
        let budget = service.limits.max_response_bytes;
        self.check_serving()?;
        validate_op(&op, service)?;
        let ended_now = matches!(op, CustomerOp::Disconnect);
        let receipt = match &op {
            CustomerOp::ReadReceipt { index } => Some(*index),
            _ => None,
        };
        let limits = &service.limits;
        let (view, service, agents) = self
            .write(
                &slot,
                |s| customer_change(s, op.clone(), self.now_ms(), limits),
                |s| {
                    (
                        ChatView::of(s, selection, budget),
                        s.record.service.clone(),
                        s.present_accounts(),
                    )
                },
            )
            .await?;
        slot.fetched(&view);
        if ended_now {
            // The customer's leave removes no agent, so the present agents are all of them.
            self.on_ended(&service, &view.chat_id, agents).await;
        } else if let Some(index) = receipt {
            self.bus.publish(BusEvent::ReadReceipt {
                chat_id: view.chat_id.clone(),
                agents: agents.into(),
                participant_id: CLIENT,
                index,
            });
        }
        Ok(view)
    }

    /// The view of a read, once authorized (see [`Self::read`]).
    fn refresh(
        &self,
        slot: &Slot,
        preview: Option<&str>,
        selection: Selection,
        max: usize,
        budget: usize,
    ) -> Result<ChatView, CoreError> {
        let preview = preview.filter(|p| !p.is_empty());
        if let Some(p) = preview {
            validate::text_len(p, max)?;
        }
        let (view, typing) = {
            let s = lock(&slot.state);
            let typing = preview
                .filter(|_| !s.ended())
                .map(|p| BusEvent::TypingPreview {
                    chat_id: s.record.chat_id.clone(),
                    agents: s.present_accounts().into(),
                    text: p.into(),
                });
            if selection == Selection::Nothing {
                slot.client_next
                    .fetch_max(s.next_index().0, Ordering::Relaxed);
            }
            (ChatView::of(&s, selection, budget), typing)
        };
        if let Some(e) = typing {
            self.bus.publish(e);
        }
        slot.fetched(&view);
        Ok(view)
    }
}

/// Whether the operation always commits an event to an open chat. Such an operation needs
/// no fresh copy of a shared chat first: a stale copy's commit is refused by the store, and
/// the engine reloads and computes it again. (Saves a store read per send.)
fn always_commits(op: &CustomerOp) -> bool {
    matches!(
        op,
        CustomerOp::Send { .. }
            | CustomerOp::StartTyping { .. }
            | CustomerOp::StopTyping { .. }
            | CustomerOp::Disconnect
            | CustomerOp::PushUrl { .. }
            | CustomerOp::CustomNotice { .. }
    )
}

fn validate_op(op: &CustomerOp, service: &ServiceSettings) -> Result<(), CoreError> {
    let max = service.max_message_length;
    let text = match op {
        CustomerOp::Send { text, .. } => Some(text.as_str()),
        CustomerOp::StartTyping { text } | CustomerOp::StopTyping { text } => text.as_deref(),
        CustomerOp::PushUrl { url } => Some(url.as_str()),
        CustomerOp::CustomNotice { text, .. } => text.as_deref(),
        _ => None,
    };
    if let Some(t) = text {
        validate::text_len(t, max)?;
    }
    match op {
        CustomerOp::UpdateNickname { nickname } => {
            validate::display_name(Some(nickname), None, None)?;
        }
        CustomerOp::UpdateData { data } => {
            for v in data.values() {
                validate::text_len(v, max)?;
            }
        }
        CustomerOp::Send {
            attributes: Some(a),
            message_type,
            ..
        } => {
            validate::attributes(a, &service.limits)?;
            if let Some(t) = message_type {
                validate::text_len(t, validate::MAX_NAME_CHARS)?;
            }
        }
        CustomerOp::CustomNotice {
            attributes: Some(a),
            ..
        } => validate::attributes(a, &service.limits)?,
        _ => {}
    }
    Ok(())
}

/// The pure rule: what a customer operation adds to the session.
fn customer_change(
    s: &Session,
    op: CustomerOp,
    now: i64,
    limits: &ServiceLimits,
) -> Result<Change, CoreError> {
    if s.ended() {
        return Err(CoreError::ChatEnded);
    }
    let one = |kind, text: Option<&str>| {
        s.event_from(CLIENT, kind, text, now)
            .map(|e| vec![e])
            .unwrap_or_default()
    };
    Ok(match op {
        CustomerOp::Send {
            text,
            message_type,
            attributes,
        } => {
            let mut events = one(EventKind::Message, Some(&text));
            if let Some(e) = events.first_mut() {
                // "text" when the client names none, as for a requestChat's first message
                // and an agent's messages.
                e.message_type = Some(message_type.unwrap_or_else(|| "text".into()).into());
                e.event_attributes = attributes.map(Box::new);
            }
            Change {
                events,
                record: None,
            }
        }
        CustomerOp::StartTyping { text } => Change {
            events: one(EventKind::TypingStarted, text.as_deref()),
            record: None,
        },
        CustomerOp::StopTyping { text } => Change {
            events: one(EventKind::TypingStopped, text.as_deref()),
            record: None,
        },
        CustomerOp::Disconnect => s.leave(CLIENT, true, now),
        CustomerOp::PushUrl { url } => Change {
            events: one(EventKind::PushUrl, Some(&url)),
            record: None,
        },
        CustomerOp::UpdateNickname { nickname } => s.rename(CLIENT, nickname.trim(), now),
        CustomerOp::CustomNotice { text, attributes } => {
            let mut events = one(EventKind::CustomNotice, text.as_deref());
            if let Some(e) = events.first_mut() {
                e.event_attributes = attributes.map(Box::new);
            }
            Change {
                events,
                record: None,
            }
        }
        CustomerOp::UpdateData { data } => {
            let change = s.merge_data(&data);
            if let Some(r) = &change.record {
                validate::user_data(&r.user_data, limits)?;
            }
            change
        }
        CustomerOp::ReadReceipt { index } => {
            if index.0 == 0 || index >= s.next_index() {
                return Err(CoreError::NoSuchEvent);
            }
            s.read_receipt(CLIENT, index)
        }
    })
}
