//! Blind transfer: an agent in a chat hands it to a queue or to another agent. The target
//! is checked first (nothing changes when it is refused), then the agent leaves (one
//! `ParticipantLeft`, as a leave), then routing takes the chat: at the back of the target
//! queue, or offered at once to the target agent (ready or not, for its service's queue's
//! offer timeout). A direct offer rejected or missed sends the chat to the head of its
//! service's queue, as any offer does; so does a direct offer that can no longer be made
//! when the leave is committed (the target filled up meanwhile).

use super::ChatEngine;
use super::agent::agent_change;
use crate::error::CoreError;
use crate::event::{Event, PartyType};
use crate::ids::{AgentId, ChatId, EventIndex};
use crate::roles::agents::AgentOp;
use crate::roles::desk::{TransferError, TransferTarget};
use crate::routing::{DirectRefusal, Waiting};
use crate::session::Session;
use std::sync::atomic::{AtomicU64, Ordering};

/// Offer timeout of a direct offer whose service's queue is not configured (cannot happen
/// with a validated configuration).
const FALLBACK_OFFER_TIMEOUT_MS: i64 = 30_000;

impl ChatEngine {
    /// Transfers a chat `agent` is in to `target`; answers the agent's `ParticipantLeft`.
    pub(crate) async fn agent_transfer(
        &self,
        agent: &AgentId,
        chat_id: &ChatId,
        target: TransferTarget,
    ) -> Result<Vec<Event>, CoreError> {
        self.check_serving()?;
        self.require_login(agent).await?;
        // The caller's own chat first: nobody learns of other agents through chats not theirs.
        let mine = self
            .read_routing(|r| r.agent(agent).is_some_and(|a| a.chats.contains(chat_id)))
            .await?;
        if !mine {
            return Err(CoreError::NotInChat);
        }
        self.check_target(agent, &target).await?;
        let slot = self
            .slot_anywhere(chat_id)
            .await?
            .ok_or(CoreError::NotInChat)?;
        let before = AtomicU64::new(1);
        let (events, service) = self
            .write(
                &slot,
                |s| {
                    before.store(s.next_index().0, Ordering::Relaxed);
                    may_transfer(s, agent, &target)?;
                    agent_change(s, agent, AgentOp::Leave, self.now_ms())
                },
                |s| {
                    let from = EventIndex(before.load(Ordering::Relaxed));
                    (s.events_from(from).to_vec(), s.record.service.clone())
                },
            )
            .await?;
        let home = self.queue_of(&service);
        let timeout = home
            .as_ref()
            .and_then(|h| self.settings.queues.iter().find(|q| &q.name == h))
            .map_or(FALLBACK_OFFER_TIMEOUT_MS, |q| q.offer_timeout_ms);
        let now = self.now_ms();
        self.route(|r, _| {
            r.agent_left(agent, chat_id, now);
            // Already queued or offered; or an agent has it (a supervisor took it over
            // between the leave and this step): routing must not take it a second time.
            if r.is_routing(chat_id) || r.agents().any(|a| a.chats.contains(chat_id)) {
                return ((), Vec::new());
            }
            let (chat, svc) = (chat_id.clone(), service.clone());
            match &target {
                TransferTarget::Queue(q) => {
                    r.enqueue(q, chat, svc, now);
                    ((), Vec::new())
                }
                TransferTarget::Agent(to) => {
                    let Some(home) = &home else {
                        return ((), Vec::new());
                    };
                    let waiting = Waiting {
                        chat_id: chat.clone(),
                        service: svc.clone(),
                        queue: home.clone(),
                        since_ms: now,
                        declined_by: Vec::new(),
                    };
                    match r.offer_directly(to, waiting, timeout, now) {
                        Ok(offered) => ((), offered),
                        Err(why) => {
                            tracing::info!(chat = %chat_id.as_str(), agent = %to.as_str(), ?why, "transfer target no longer available: the chat waits at the head of its queue");
                            r.enqueue_front(home, chat, svc, now);
                            ((), Vec::new())
                        }
                    }
                }
            }
        })
        .await?;
        Ok(events)
    }

    /// Refuses a target that does not exist, is the caller, or cannot take the chat now.
    async fn check_target(&self, me: &AgentId, target: &TransferTarget) -> Result<(), CoreError> {
        match target {
            TransferTarget::Queue(q) => {
                if !self.settings.queues.iter().any(|s| &s.name == q) {
                    return Err(TransferError::NoSuchQueue.into());
                }
            }
            TransferTarget::Agent(to) => {
                if to == me {
                    return Err(CoreError::InvalidArgument(
                        "cannot transfer a chat to yourself".into(),
                    ));
                }
                if !self.settings.agents.iter().any(|a| &a.id == to) {
                    return Err(TransferError::NoSuchAgent.into());
                }
                match self.read_routing(|r| r.can_offer_to(to)).await? {
                    Ok(()) => {}
                    Err(DirectRefusal::NoSuchAgent) => {
                        return Err(TransferError::NoSuchAgent.into());
                    }
                    Err(_) => return Err(TransferError::AgentUnavailable.into()),
                }
            }
        }
        Ok(())
    }
}

/// Refuses, at commit time, a transfer by anyone but the chat's one agent: a monitoring
/// supervisor (`Monitoring`), a caller not in the chat, a chat other agents are in too (a
/// transfer would leave it with them and in a queue at once: leave it instead), and a
/// target agent already in it.
fn may_transfer(s: &Session, me: &AgentId, target: &TransferTarget) -> Result<(), CoreError> {
    let as_agent = |who: &AgentId| {
        s.record.participants.iter().any(|p| {
            p.present() && p.party_type == PartyType::Agent && p.agent_id.as_ref() == Some(who)
        })
    };
    if s.ended() {
        return Err(CoreError::ChatEnded);
    }
    if !as_agent(me) {
        return Err(match s.agent_participant(me) {
            Some(_) => CoreError::Monitoring,
            None => CoreError::NotInChat,
        });
    }
    if s.present_agents().iter().any(|a| a != me) {
        return Err(CoreError::InvalidArgument(
            "other agents are in this chat: leave it instead of transferring it".into(),
        ));
    }
    if let TransferTarget::Agent(to) = target
        && as_agent(to)
    {
        return Err(CoreError::InvalidArgument(
            "that agent is already in this chat".into(),
        ));
    }
    Ok(())
}
