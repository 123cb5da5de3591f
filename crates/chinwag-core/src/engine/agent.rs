//! Agent-side operations: presence, offers, and acting in accepted chats (reached through
//! [`crate::roles::Agents`]).

use super::{ChatEngine, lock};
use crate::error::CoreError;
use crate::event::{Event, EventKind, PartyType};
use crate::ids::{AgentId, ChatId, EventIndex, ParticipantId};
use crate::roles::agents::{AgentChatView, AgentOp, AgentStatus, OfferView};
use crate::roles::routing::RoutingOverview;
use crate::routing::RouterState;
use crate::session::{Change, Session};
use crate::validate;
use std::sync::atomic::Ordering;
use subtle::ConstantTimeEq;

impl ChatEngine {
    /// Finds the agent for a login token (constant-time over every account). An account
    /// without a token (it signs in to the console with a password only) matches none.
    pub(crate) fn authenticate(&self, token: &str) -> Result<AgentId, CoreError> {
        let mut found = None;
        for a in &self.settings.agents {
            if !a.token.is_empty() && bool::from(a.token.as_bytes().ct_eq(token.as_bytes())) {
                found = Some(a.id.clone());
            }
        }
        found.ok_or(CoreError::Unauthorized)
    }

    /// Logs an agent in (not ready).
    pub(crate) async fn agent_login(&self, agent: &AgentId) -> Result<AgentStatus, CoreError> {
        let reason = self.settings.desk.default_reason();
        self.route(|r, now| {
            r.login(agent, now);
            r.default_reason(agent, reason);
            (status_of(r, agent), Vec::new())
        })
        .await
    }

    /// Logs an agent out; its offers go back to the queue.
    pub(crate) async fn agent_logout(&self, agent: &AgentId) -> Result<(), CoreError> {
        self.route(|r, _| ((), r.logout(agent))).await
    }

    /// Sets readiness (not ready: for the default reason). The agent must be logged in.
    pub(crate) async fn agent_set_ready(
        &self,
        agent: &AgentId,
        ready: bool,
    ) -> Result<AgentStatus, CoreError> {
        self.agent_set_state(agent, ready, None).await
    }

    pub(super) async fn require_login(&self, agent: &AgentId) -> Result<(), CoreError> {
        self.read_routing(|r| logged_in(r, agent)).await?
    }

    /// The agent's presence, chats and offers.
    pub(crate) async fn agent_status(&self, agent: &AgentId) -> Result<AgentStatus, CoreError> {
        self.read_routing(|r| status_of(r, agent)).await
    }

    /// Routing as it stands: waiting and offered chats, every agent's status.
    pub(crate) async fn routing_overview(&self) -> Result<RoutingOverview, CoreError> {
        self.read_routing(|r| {
            let mut agents: Vec<AgentStatus> =
                r.agents().map(|a| status_of(r, &a.account.id)).collect();
            agents.sort_by(|x, y| x.id.cmp(&y.id));
            RoutingOverview {
                waiting: r.waiting_count(),
                offered: agents.iter().map(|a| a.offers.len()).sum(),
                agents,
            }
        })
        .await
    }

    /// Accepts an offered chat: the agent joins it (`ParticipantJoined` for the customer).
    pub(crate) async fn agent_accept(
        &self,
        agent: &AgentId,
        chat_id: &ChatId,
    ) -> Result<AgentChatView, CoreError> {
        self.check_serving()?;
        let offer = self
            .route(|r, _| {
                let accepted = logged_in(r, agent)
                    .and_then(|()| r.accept(agent, chat_id).ok_or(CoreError::NoSuchOffer));
                (accepted, Vec::new())
            })
            .await??;
        // A supervisor who accepts an offer handles the chat: it joins as `Agent` too (its
        // `Supervisor` participant is the silent monitor, see `supervise.rs`).
        let name = self
            .settings
            .agents
            .iter()
            .find(|a| &a.id == agent)
            .map(|a| a.name.clone())
            .ok_or(CoreError::Unauthorized)?;
        let joined = match self.slot_anywhere(chat_id).await {
            Err(e) => Err(e),
            Ok(None) => Err(CoreError::ChatNotFound),
            Ok(Some(slot)) => {
                self.write(
                    &slot,
                    |s| {
                        if s.ended() {
                            Err(CoreError::ChatEnded)
                        } else {
                            Ok(super::supervise::join_as_agent(
                                s,
                                &name,
                                agent,
                                self.now_ms(),
                            ))
                        }
                    },
                    |s| self.with_queue(agent_view(s, EventIndex(1), self.budget(s))),
                )
                .await
            }
        };
        let undone = match &joined {
            Ok(_) => Ok(()),
            // The chat is gone: it must not go back to the queue to be offered again.
            Err(CoreError::ChatEnded | CoreError::ChatNotFound) => {
                self.route(|r, now| {
                    r.undo_accept(agent, offer.clone());
                    ((), r.chat_ended(chat_id, now))
                })
                .await
            }
            Err(_) => {
                self.route(|r, _| {
                    r.undo_accept(agent, offer.clone());
                    ((), Vec::new())
                })
                .await
            }
        };
        if let Err(err) = undone {
            tracing::warn!(chat = %chat_id.as_str(), %err, "a failed accept was not undone in routing");
        }
        joined
    }

    /// Rejects an offered chat.
    pub(crate) async fn agent_reject(
        &self,
        agent: &AgentId,
        chat_id: &ChatId,
    ) -> Result<(), CoreError> {
        self.route(|r, _| match r.reject(agent, chat_id) {
            Some(events) => (Ok(()), events),
            None => (Err(CoreError::NoSuchOffer), Vec::new()),
        })
        .await?
    }

    /// A chat the agent is in or has been offered (a supervisor: any chat, live or ended),
    /// with events from `from`.
    pub(crate) async fn agent_chat(
        &self,
        agent: &AgentId,
        chat_id: &ChatId,
        from: EventIndex,
    ) -> Result<AgentChatView, CoreError> {
        let allowed = self
            .read_routing(|r| {
                r.agent(agent)
                    .is_some_and(|a| a.chats.contains(chat_id) || a.offers.contains(chat_id))
            })
            .await?;
        let slot = self
            .fresh_slot(chat_id)
            .await?
            .ok_or(CoreError::NotInChat)?;
        let s = lock(&slot.state);
        if !allowed && s.agent_participant(agent).is_none() && !self.is_supervisor(agent) {
            return Err(CoreError::NotInChat);
        }
        Ok(self.with_queue(agent_view(&s, from, self.budget(&s))))
    }

    /// Bytes of events one answer about `s` carries (its service's limit).
    pub(super) fn budget(&self, s: &Session) -> usize {
        self.service(s.record.service.as_str())
            .map_or(256 << 10, |svc| svc.limits.max_response_bytes)
    }

    /// Acts in a chat the agent is in; returns the committed events.
    pub(crate) async fn agent_act(
        &self,
        agent: &AgentId,
        chat_id: &ChatId,
        op: AgentOp,
    ) -> Result<Vec<Event>, CoreError> {
        self.check_serving()?;
        self.require_login(agent).await?;
        validate_agent_op(&op)?;
        let slot = self
            .slot_anywhere(chat_id)
            .await?
            .ok_or(CoreError::NotInChat)?;
        if let AgentOp::Notice {
            attributes: Some(a),
            ..
        } = &op
        {
            let service = lock(&slot.state).record.service.clone();
            if let Some(svc) = self.service(service.as_str()) {
                validate::attributes(a, &svc.limits)?;
            }
        }
        // Where the agent's own events start: set by the try that commits (a retry after a
        // conflict starts later, after what another node wrote meanwhile).
        let before = std::sync::atomic::AtomicU64::new(1);
        let (ending, leaving) = (matches!(op, AgentOp::End), matches!(op, AgentOp::Leave));
        let (events, service, agents_left, others) = self
            .write(
                &slot,
                |s| {
                    before.store(s.next_index().0, Ordering::Relaxed);
                    agent_change(s, agent, op.clone(), self.now_ms())
                },
                |s| {
                    (
                        s.events_from(EventIndex(before.load(Ordering::Relaxed)))
                            .to_vec(),
                        s.record.service.clone(),
                        s.present_accounts(),
                        s.present_agents().is_empty(),
                    )
                },
            )
            .await?;
        if ending {
            let mut all = agents_left;
            all.push(agent.clone());
            self.on_ended(&service, chat_id, all).await;
        } else if leaving {
            let queue = self.service(service.as_str()).map(|s| s.queue.clone());
            let now = self.now_ms();
            self.route(|r, _| {
                r.agent_left(agent, chat_id, now);
                if let (true, Some(q)) = (others, &queue)
                    && !r.is_routing(chat_id)
                {
                    r.enqueue(q, chat_id.clone(), service.clone(), now);
                }
                ((), Vec::new())
            })
            .await?;
        }
        Ok(events)
    }
}

/// `Ok` when the agent is logged in; which refusal otherwise.
pub(super) fn logged_in(r: &RouterState, agent: &AgentId) -> Result<(), CoreError> {
    match r.agent(agent) {
        Some(a) if a.logged_in => Ok(()),
        Some(_) => Err(CoreError::NotLoggedIn),
        None => Err(CoreError::Unauthorized),
    }
}

/// The agent's presence, chats and offers as `r` has them.
pub(super) fn status_of(r: &RouterState, agent: &AgentId) -> AgentStatus {
    let mut status = AgentStatus {
        id: agent.clone(),
        name: String::new(),
        logged_in: false,
        ready: false,
        reason: None,
        capacity: 0,
        chats: Vec::new(),
        offers: Vec::new(),
    };
    if let Some(a) = r.agent(agent) {
        status.name.clone_from(&a.account.name);
        (status.logged_in, status.ready, status.capacity) =
            (a.logged_in, a.ready, a.account.capacity);
        status.reason = a.reason.clone().filter(|_| a.logged_in && !a.ready);
        status.chats = a.chats.iter().cloned().collect();
        status.chats.sort();
        status.offers = a
            .offers
            .iter()
            .filter_map(|c| {
                let o = r.offer(c)?;
                Some(OfferView {
                    chat_id: c.clone(),
                    service: o.waiting.service.clone(),
                    expires_ms: o.expires_ms,
                })
            })
            .collect();
        status.offers.sort_by(|x, y| x.chat_id.cmp(&y.chat_id));
    }
    status
}

pub(super) fn agent_view(s: &Session, from: EventIndex, max_bytes: usize) -> AgentChatView {
    let events = super::view::page(s.events_from(from), max_bytes).to_vec();
    AgentChatView {
        chat_id: s.record.chat_id.clone(),
        service: s.record.service.clone(),
        // Filled in by the engine from its settings (`with_queue`).
        queue: crate::ids::QueueName::default(),
        subject: s.record.subject.clone(),
        email: s.record.email.clone(),
        user_data: s.record.user_data.clone(),
        participants: s.record.participants.clone(),
        ended: s.ended(),
        next_position: events.last().map_or(s.next_index().0, |e| e.index.0 + 1),
        events,
    }
}

fn validate_agent_op(op: &AgentOp) -> Result<(), CoreError> {
    let text = match op {
        AgentOp::Send { text, .. }
        | AgentOp::PushUrl { url: text }
        | AgentOp::Notice { text, .. } => Some(text.as_str()),
        AgentOp::Typing { text, .. } => text.as_deref(),
        AgentOp::Leave | AgentOp::End => None,
    };
    if let Some(t) = text {
        validate::text_len(t, validate::AGENT_MAX_TEXT)?;
    }
    match op {
        AgentOp::Send { text, .. } | AgentOp::PushUrl { url: text } if text.is_empty() => {
            Err(CoreError::InvalidArgument("text must not be empty".into()))
        }
        _ => Ok(()),
    }
}

pub(super) fn agent_change(
    s: &Session,
    agent: &AgentId,
    op: AgentOp,
    now: i64,
) -> Result<Change, CoreError> {
    if s.ended() {
        return Err(CoreError::ChatEnded);
    }
    let me = s.agent_participant(agent).ok_or(CoreError::NotInChat)?;
    if me.party_type == PartyType::Supervisor {
        return super::supervise::monitor_act(s, me.id, &op, now);
    }
    let me: ParticipantId = me.id;
    let one = |kind, text: Option<&str>| {
        s.event_from(me, kind, text, now)
            .map(|e| vec![e])
            .unwrap_or_default()
    };
    Ok(match op {
        AgentOp::Send { text, message_type } => {
            let mut events = one(EventKind::Message, Some(&text));
            if let Some(e) = events.first_mut() {
                e.message_type = Some(message_type.unwrap_or_else(|| "text".into()).into());
            }
            Change {
                events,
                record: None,
            }
        }
        AgentOp::Typing { on, text } => {
            let kind = if on {
                EventKind::TypingStarted
            } else {
                EventKind::TypingStopped
            };
            Change {
                events: one(kind, text.as_deref()),
                record: None,
            }
        }
        AgentOp::PushUrl { url } => Change {
            events: one(EventKind::PushUrl, Some(&url)),
            record: None,
        },
        AgentOp::Notice {
            text,
            custom,
            attributes,
        } => {
            let kind = if custom {
                EventKind::CustomNotice
            } else {
                EventKind::Notice
            };
            let mut events = one(kind, Some(&text));
            if let Some(e) = events.first_mut() {
                e.event_attributes = attributes.clone().map(Box::new);
            }
            Change {
                events,
                record: None,
            }
        }
        AgentOp::Leave => s.leave(me, false, now),
        AgentOp::End => s.leave(me, true, now),
    })
}
