//! Supervision (reached through [`crate::roles::Agents`], see `roles/supervise.rs`): the
//! overview of queues, agents and live chats; monitoring a chat silently; taking a chat over.
//!
//! A monitoring supervisor is a `Supervisor` participant added to the chat's record with no
//! transcript event: the chat is `monitored` for the customer, the supervisor hears its
//! events (it is among [`Session::present_accounts`]), but it is no agent of the chat
//! ([`Session::present_agents`]): not in routing, not counted for capacity, a chat whose last
//! agent leaves still queues again. It may only leave, silently ([`monitor_act`]).
//!
//! A take-over is one commit — the supervisor's monitor leaves silently, the supervisor joins
//! as `Agent` (`ParticipantJoined`), every other agent leaves (`ParticipantLeft` each; the bus
//! names the accounts present before the change too, so their streams hear their own
//! leaving) — then one routing change ([`RouterState::take_over`]). Done twice, it changes
//! nothing more: a take-over whose routing step failed (a shared store out of reach) is
//! finished by calling it again.

use super::agent::{agent_view, status_of};
use super::{ChatEngine, lock};
use crate::error::CoreError;
use crate::event::{Event, EventKind, Party, PartyType};
use crate::ids::{AgentId, ChatId, EventIndex, ParticipantId};
use crate::roles::agents::{AgentChatView, AgentOp};
use crate::roles::supervise::{LiveChat, MAX_LISTED_CHATS, QueueOverview, SupervisorOverview};
use crate::routing::{LiveEntry, RouterState};
use crate::session::{CLIENT, Change, Participant, Session};
use crate::settings::{AgentAccount, AgentRole};

/// What the overview reads of a chat's record.
struct Peek {
    service: crate::ids::ServiceName,
    /// When the first agent still in it joined (its creation if none is).
    agents_since: i64,
    monitored: bool,
    customer: Option<String>,
    subject: Option<String>,
}

impl Peek {
    fn of(s: &Session) -> Self {
        let r = &s.record;
        let agents_since = r
            .participants
            .iter()
            .filter(|p| p.present() && p.party_type == PartyType::Agent)
            .map(|p| p.joined_ms)
            .min()
            .unwrap_or(r.created_ms);
        Self {
            service: r.service.clone(),
            agents_since,
            monitored: s.monitored(),
            customer: s.participant(CLIENT).map(|p| p.nickname.to_string()),
            subject: r.subject.clone(),
        }
    }
}

/// A live chat on its way into the overview.
struct Row {
    entry: LiveEntry,
    since: i64,
    peek: Option<Peek>,
}

impl ChatEngine {
    /// Whether `agent` is a supervisor account.
    pub(super) fn is_supervisor(&self, agent: &AgentId) -> bool {
        self.supervisor(agent).is_ok()
    }

    /// The supervisor account `agent`, or [`CoreError::Forbidden`].
    fn supervisor(&self, agent: &AgentId) -> Result<&AgentAccount, CoreError> {
        self.settings
            .agents
            .iter()
            .find(|a| &a.id == agent && a.role == AgentRole::Supervisor)
            .ok_or(CoreError::Forbidden)
    }

    /// Queues, agents and the oldest live chats (see [`SupervisorOverview`]).
    pub(crate) async fn supervisor_overview(
        &self,
        agent: &AgentId,
    ) -> Result<SupervisorOverview, CoreError> {
        self.supervisor(agent)?;
        let (loads, agents, (entries, total)) = self
            .read_routing(|r: &RouterState| {
                let mut agents: Vec<_> = r.agents().map(|a| status_of(r, &a.account.id)).collect();
                agents.sort_by(|x, y| x.id.cmp(&y.id));
                (r.queue_loads(), agents, r.live_chats(MAX_LISTED_CHATS))
            })
            .await?;
        let now = self.now_ms();
        let queues = self
            .settings
            .queues
            .iter()
            .filter_map(|q| loads.iter().find(|l| l.queue == q.name))
            .map(|l| QueueOverview {
                queue: l.queue.clone(),
                waiting: l.waiting,
                offered: l.offered,
                longest_wait_ms: l.oldest_since_ms.map(|t| now.saturating_sub(t).max(0)),
            })
            .collect();
        // An active chat's age is in its record (read now); a queued one's in routing (its
        // record is read only if it is among the oldest listed).
        let mut rows = Vec::with_capacity(entries.len());
        let mut gone = 0;
        for entry in entries {
            if let Some((_, _, since)) = entry.queued {
                rows.push(Row {
                    entry,
                    since,
                    peek: None,
                });
            } else if let Some(peek) = self.peek(&entry.chat_id).await {
                rows.push(Row {
                    since: peek.agents_since,
                    entry,
                    peek: Some(peek),
                });
            } else {
                gone += 1;
            }
        }
        rows.sort_by(|a, b| (a.since, &a.entry.chat_id).cmp(&(b.since, &b.entry.chat_id)));
        rows.truncate(MAX_LISTED_CHATS);
        let mut chats = Vec::with_capacity(rows.len());
        for row in rows {
            let peek = match row.peek {
                Some(p) => Some(p),
                None => self.peek(&row.entry.chat_id).await,
            };
            chats.push(self.live_chat(row.entry, row.since, peek));
        }
        Ok(SupervisorOverview {
            queues,
            agents,
            chats,
            truncated: total.saturating_sub(gone) > MAX_LISTED_CHATS,
        })
    }

    /// The overview's line for a chat.
    fn live_chat(&self, entry: LiveEntry, since_ms: i64, peek: Option<Peek>) -> LiveChat {
        let (queue, service) = match (entry.queued, &peek) {
            (Some((queue, service, _)), _) => (queue, service),
            (None, Some(p)) => {
                let queue = self
                    .service(p.service.as_str())
                    .map(|s| s.queue.clone())
                    .unwrap_or_default();
                (queue, p.service.clone())
            }
            (None, None) => Default::default(),
        };
        let name = |id: &AgentId| {
            let account = self.settings.agents.iter().find(|a| &a.id == id);
            account.map(|a| a.name.clone()).unwrap_or_default()
        };
        LiveChat {
            chat_id: entry.chat_id,
            service,
            queue,
            state: entry.state,
            since_ms,
            agents: entry
                .agents
                .into_iter()
                .map(|a| (a.clone(), name(&a)))
                .collect(),
            monitored: peek.as_ref().is_some_and(|p| p.monitored),
            customer: peek.as_ref().and_then(|p| p.customer.clone()),
            subject: peek.and_then(|p| p.subject),
        }
    }

    /// What the overview shows of a chat's record: from memory when held here (without
    /// counting as a use), else read from the store without its transcript and without
    /// keeping it, so the overview holds no chat in memory. `None`: no such chat, or its
    /// record could not be read (logged; the line then shows no customer).
    async fn peek(&self, chat: &ChatId) -> Option<Peek> {
        let held = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(chat)
            .cloned();
        if let Some(slot) = held {
            return Some(Peek::of(&lock(&slot.state)));
        }
        match self.store.load_since(chat, EventIndex(u64::MAX)).await {
            Ok(Some(stored)) => Some(Peek::of(&Session::new(stored.record, Vec::new()))),
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(chat = %chat.as_str(), %err, "the overview could not read a chat");
                None
            }
        }
    }

    /// Starts monitoring a chat silently (see the module header).
    pub(crate) async fn monitor(
        &self,
        agent: &AgentId,
        chat_id: &ChatId,
    ) -> Result<AgentChatView, CoreError> {
        self.check_serving()?;
        let name = self.supervisor(agent)?.name.clone();
        self.require_login(agent).await?;
        let slot = self
            .slot_anywhere(chat_id)
            .await?
            .ok_or(CoreError::ChatNotFound)?;
        self.write(
            &slot,
            |s| {
                if s.ended() {
                    return Err(CoreError::ChatEnded);
                }
                if s.agent_participant(agent).is_some() {
                    return Ok(Change::default()); // monitoring already, or its agent
                }
                let mut record = s.record.clone();
                let id = next_participant(&record.participants);
                record.participants.push(Participant {
                    id,
                    party_type: PartyType::Supervisor,
                    nickname: name.as_str().into(),
                    agent_id: Some(agent.clone()),
                    joined_ms: self.now_ms(),
                    left_ms: None,
                    read_up_to: None,
                });
                Ok(Change {
                    events: Vec::new(),
                    record: Some(record),
                })
            },
            |s| agent_view(s, EventIndex(1), self.budget(s)),
        )
        .await
        .map(|v| self.with_queue(v))
    }

    /// Takes a chat over (see the module header).
    pub(crate) async fn take_over(
        &self,
        agent: &AgentId,
        chat_id: &ChatId,
    ) -> Result<AgentChatView, CoreError> {
        self.check_serving()?;
        let name = self.supervisor(agent)?.name.clone();
        self.require_login(agent).await?;
        let slot = self
            .slot_anywhere(chat_id)
            .await?
            .ok_or(CoreError::ChatNotFound)?;
        let view = self
            .write(
                &slot,
                |s| take_over_change(s, agent, &name, self.now_ms()),
                |s| agent_view(s, EventIndex(1), self.budget(s)),
            )
            .await?;
        self.route(|r, now| ((), r.take_over(agent, chat_id, now)))
            .await?;
        Ok(self.with_queue(view))
    }
}

/// The number a new participant of `participants` gets.
fn next_participant(participants: &[Participant]) -> ParticipantId {
    ParticipantId(participants.iter().map(|p| p.id.0).max().unwrap_or(0) + 1)
}

/// `agent` (named `name`) joins `s` as `Agent` (`ParticipantJoined`): an accepted offer. A
/// supervisor monitoring the chat stops monitoring it first, silently. An account already
/// in the chat as `Agent` does not join twice: nothing changes.
pub(super) fn join_as_agent(s: &Session, name: &str, agent: &AgentId, now: i64) -> Change {
    if s.record.participants.iter().any(|p| {
        p.present() && p.party_type == PartyType::Agent && p.agent_id.as_ref() == Some(agent)
    }) {
        return Change::default();
    }
    let mut change = s.join(PartyType::Agent, name, agent.clone(), now);
    if let Some(record) = change.record.as_mut() {
        for p in record.participants.iter_mut() {
            if p.present()
                && p.party_type == PartyType::Supervisor
                && p.agent_id.as_ref() == Some(agent)
            {
                p.left_ms = Some(now);
            }
        }
    }
    change
}

/// What a monitoring supervisor (participant `me`) may do in the chat: leave, silently.
pub(super) fn monitor_act(
    s: &Session,
    me: ParticipantId,
    op: &AgentOp,
    now: i64,
) -> Result<Change, CoreError> {
    if !matches!(op, AgentOp::Leave) {
        return Err(CoreError::Monitoring);
    }
    let mut record = s.record.clone();
    if let Some(p) = record.participants.iter_mut().find(|p| p.id == me) {
        p.left_ms = Some(now);
    }
    Ok(Change {
        events: Vec::new(),
        record: Some(record),
    })
}

/// The take-over of `s` by supervisor `sup` (named `name`), and the agents it removes.
fn take_over_change(s: &Session, sup: &AgentId, name: &str, now: i64) -> Result<Change, CoreError> {
    if s.ended() {
        return Err(CoreError::ChatEnded);
    }
    let mine = |p: &Participant| p.present() && p.agent_id.as_ref() == Some(sup);
    let mut record = s.record.clone();
    let mut changed = false;
    for p in record.participants.iter_mut() {
        if mine(p) && p.party_type == PartyType::Supervisor {
            p.left_ms = Some(now); // the monitor leaves silently first
            changed = true;
        }
    }
    let mut events = Vec::new();
    let mut index = s.next_index().0;
    let mut event = |kind, p: &Participant| {
        let from = Party {
            nickname: p.nickname.clone(),
            participant_id: p.id,
            party_type: p.party_type,
        };
        events.push(Event {
            index: EventIndex(index),
            kind,
            from,
            text: None,
            message_type: None,
            utc_time_ms: now,
            user_data: None,
            event_attributes: None,
        });
        index += 1;
    };
    if !record
        .participants
        .iter()
        .any(|p| mine(p) && p.party_type == PartyType::Agent)
    {
        let me = Participant {
            id: next_participant(&record.participants),
            party_type: PartyType::Agent,
            nickname: name.into(),
            agent_id: Some(sup.clone()),
            joined_ms: now,
            left_ms: None,
            read_up_to: None,
        };
        event(EventKind::ParticipantJoined, &me);
        record.participants.push(me);
    }
    for p in record.participants.iter_mut() {
        if p.present() && p.party_type == PartyType::Agent && !mine(p) {
            p.left_ms = Some(now);
            event(EventKind::ParticipantLeft, p);
        }
    }
    if events.is_empty() && !changed {
        return Ok(Change::default());
    }
    Ok(Change {
        events,
        record: Some(record),
    })
}

#[cfg(test)]
#[path = "tests_supervise.rs"]
mod tests;

#[cfg(test)]
#[path = "tests_supervise_cluster.rs"]
mod tests_cluster;

#[cfg(test)]
#[path = "tests_supervise_transfer.rs"]
mod tests_transfer;

#[cfg(test)]
#[path = "tests_supervise_overview.rs"]
mod tests_overview;
