//! Supervision over the in-memory store, through the role handles: silent monitoring (no
//! event, `monitored` for the customer, the supervisor's stream hears the chat, the chat
//! still queues again when its agent leaves), take-over (events, routing, offers and queue
//! entries withdrawn, the removed agent hears its own leaving), the overview and its cap,
//! and who may do what.

use super::super::limits_tests::ManualClock;
use super::*;
use crate::ChatEngine;
use crate::bus::{BusEvent, OfferEnd};
use crate::engine::ChatView;
use crate::ids::{NodeAlias, QueueName, ServiceName};
use crate::memstore::MemoryStore;
use crate::roles::customers::{Credentials, NewChat, Selection};
use crate::roles::{Agents, Customers};
use crate::settings::{EngineSettings, QueueSettings, ServiceLimits, ServiceSettings};
use chinwag_limits::Rate;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::broadcast;

type R = Result<(), CoreError>;

pub(super) const T0: i64 = 1_000_000;

fn account(id: &str, name: &str, role: AgentRole) -> AgentAccount {
    AgentAccount {
        id: AgentId::new(id),
        name: name.into(),
        token: format!("{id}-token"),
        queues: vec![QueueName::new("q")],
        capacity: 2,
        role,
    }
}

fn settings() -> EngineSettings {
    EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 1000,
            max_message_length: 100,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits: ServiceLimits {
                create_per_service: Rate::UNLIMITED,
                ..ServiceLimits::default()
            },
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: vec![
            account("a1", "Alice", AgentRole::Agent),
            account("a2", "Ann", AgentRole::Agent),
            account("boss", "Boss", AgentRole::Supervisor),
        ],
        ended_retention_ms: 60_000,
        push: Default::default(),
        desk: Default::default(),
    }
}

pub(super) struct Kit {
    pub(super) engine: Arc<ChatEngine>,
    pub(super) agents: Agents,
    pub(super) customers: Customers,
    clock: Arc<ManualClock>,
}

static SVC: std::sync::LazyLock<ServiceName> = std::sync::LazyLock::new(|| ServiceName::new("svc"));

pub(super) fn creds(v: &ChatView) -> Credentials<'_> {
    Credentials {
        service: &SVC,
        chat_id: &v.chat_id,
        user_id: Some(&v.user_id),
        key: &v.secure_key,
        origin: None,
    }
}

pub(super) fn id(s: &str) -> AgentId {
    AgentId::new(s)
}

impl Kit {
    pub(super) async fn new() -> Result<Self, CoreError> {
        let clock = Arc::new(ManualClock(AtomicI64::new(T0)));
        let engine =
            ChatEngine::open(settings(), Arc::new(MemoryStore::default()), clock.clone()).await?;
        Ok(Self {
            agents: engine.agents(),
            customers: engine.customers(),
            engine,
            clock,
        })
    }

    pub(super) fn advance(&self, ms: i64) {
        self.clock.0.fetch_add(ms, Ordering::Relaxed);
    }

    pub(super) async fn chat(&self, nick: &str) -> Result<ChatView, CoreError> {
        let req = NewChat {
            service: "svc".into(),
            nickname: Some(nick.into()),
            subject: Some("Billing".into()),
            ..NewChat::default()
        };
        self.customers.request_chat(req, Selection::Nothing).await
    }

    /// `a1` logged in and ready, and a chat it accepted.
    pub(super) async fn accepted(&self) -> Result<ChatView, CoreError> {
        self.agents.login(&id("a1")).await?;
        self.agents.set_ready(&id("a1"), true).await?;
        let v = self.chat("Jo").await?;
        self.agents.accept(&id("a1"), &v.chat_id).await?;
        Ok(v)
    }

    pub(super) async fn customer_view(&self, v: &ChatView) -> Result<ChatView, CoreError> {
        self.customers
            .read(creds(v), Selection::From(EventIndex(1)))
            .await
    }

    pub(super) async fn send(&self, who: &str, v: &ChatView) -> Result<Vec<Event>, CoreError> {
        let op = AgentOp::Send {
            text: "hi".into(),
            message_type: None,
        };
        self.agents.act(&id(who), &v.chat_id, op).await
    }

    pub(super) async fn routing<T>(
        &self,
        f: impl FnOnce(&RouterState) -> T,
    ) -> Result<T, CoreError> {
        self.engine.read_routing(f).await
    }
}

/// What the bus carried so far.
fn drain(rx: &mut broadcast::Receiver<BusEvent>) -> Vec<BusEvent> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

fn transcript(events: &[BusEvent]) -> Vec<(EventKind, Vec<AgentId>, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            BusEvent::Transcript {
                event,
                agents,
                monitored,
                ..
            } => Some((event.kind, agents.to_vec(), *monitored)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_monitor_joins_and_leaves_silently_and_the_customer_sees_monitored() -> R {
    let k = Kit::new().await?;
    let v = k.accepted().await?;
    let before = k.customer_view(&v).await?;
    assert!(!before.monitored);
    k.agents.login(&id("boss")).await?;
    let mut bus = k.agents.bus().subscribe();
    let view = k.agents.monitor(&id("boss"), &v.chat_id).await?;
    let sup = view
        .participants
        .iter()
        .find(|p| p.agent_id == Some(id("boss")));
    assert_eq!(sup.map(|p| p.party_type), Some(PartyType::Supervisor));
    // Again: the same, no second participant.
    let again = k.agents.monitor(&id("boss"), &v.chat_id).await?;
    assert_eq!(again.participants.len(), view.participants.len());
    let during = k.customer_view(&v).await?;
    assert!(during.monitored);
    assert_eq!(
        during.events.len(),
        before.events.len(),
        "no transcript event"
    );
    assert!(transcript(&drain(&mut bus)).is_empty());
    // The supervisor hears the chat, marked monitored.
    k.send("a1", &v).await?;
    let heard = transcript(&drain(&mut bus));
    assert_eq!(heard.len(), 1);
    assert!(heard[0].1.contains(&id("boss")) && heard[0].2);
    // It may not act in it, only leave.
    assert!(matches!(
        k.send("boss", &v).await,
        Err(CoreError::Monitoring)
    ));
    let end = k.agents.act(&id("boss"), &v.chat_id, AgentOp::End).await;
    assert!(matches!(end, Err(CoreError::Monitoring)));
    let left = k
        .agents
        .act(&id("boss"), &v.chat_id, AgentOp::Leave)
        .await?;
    assert!(left.is_empty());
    let after = k.customer_view(&v).await?;
    assert!(!after.monitored && !after.ended);
    assert_eq!(
        after.events.len(),
        before.events.len() + 1,
        "only the message"
    );
    assert!(transcript(&drain(&mut bus)).is_empty());
    Ok(())
}

#[tokio::test]
async fn a_monitored_chat_whose_agent_leaves_queues_again() -> R {
    let k = Kit::new().await?;
    let v = k.accepted().await?;
    k.agents.login(&id("boss")).await?;
    k.agents.monitor(&id("boss"), &v.chat_id).await?;
    let mut bus = k.agents.bus().subscribe();
    k.agents.act(&id("a1"), &v.chat_id, AgentOp::Leave).await?;
    assert!(
        k.routing(|r| r.is_routing(&v.chat_id)).await?,
        "queued again"
    );
    // The supervisor still hears it (the agent's leaving, among others).
    let heard = transcript(&drain(&mut bus));
    assert!(heard.iter().any(
        |(kind, agents, _)| *kind == EventKind::ParticipantLeft && agents.contains(&id("boss"))
    ));
    let slot = k.engine.slot(&v.chat_id).ok_or(CoreError::ChatNotFound)?;
    let s = lock(&slot.state);
    assert!(s.present_agents().is_empty(), "a monitor is no agent");
    assert_eq!(s.present_accounts(), [id("boss")]);
    Ok(())
}

#[tokio::test]
async fn a_take_over_replaces_the_agents_who_hear_their_own_leaving() -> R {
    let k = Kit::new().await?;
    let v = k.accepted().await?;
    k.agents.login(&id("boss")).await?;
    k.agents.monitor(&id("boss"), &v.chat_id).await?;
    let n = k.customer_view(&v).await?.events.len();
    let mut bus = k.agents.bus().subscribe();
    let view = k.agents.take_over(&id("boss"), &v.chat_id).await?;
    assert_eq!(view.events.len(), n + 2);
    let seen = k.customer_view(&v).await?;
    assert!(!seen.monitored, "the monitor left");
    let tail: Vec<_> = seen.events[n..]
        .iter()
        .map(|e| (e.kind, e.from.party_type, e.from.nickname.to_string()))
        .collect();
    assert_eq!(
        tail,
        [
            (
                EventKind::ParticipantJoined,
                PartyType::Agent,
                "Boss".into()
            ),
            (EventKind::ParticipantLeft, PartyType::Agent, "Alice".into()),
        ]
    );
    let heard = transcript(&drain(&mut bus));
    assert_eq!(heard.len(), 2);
    assert!(
        heard
            .iter()
            .all(|(_, agents, _)| agents.contains(&id("a1")) && agents.contains(&id("boss")))
    );
    let chats = |who: &'static str| {
        let chat = v.chat_id.clone();
        k.routing(move |r| r.agent(&id(who)).is_some_and(|a| a.chats.contains(&chat)))
    };
    assert!(chats("boss").await? && !chats("a1").await?);
    assert!(matches!(k.send("a1", &v).await, Err(CoreError::NotInChat)));
    assert_eq!(k.send("boss", &v).await?.len(), 1);
    // Again: nothing more happens.
    k.agents.take_over(&id("boss"), &v.chat_id).await?;
    assert_eq!(k.customer_view(&v).await?.events.len(), n + 3);
    // The supervisor's leaving queues the chat again, as an agent's does.
    k.agents
        .act(&id("boss"), &v.chat_id, AgentOp::Leave)
        .await?;
    assert!(k.routing(|r| r.is_routing(&v.chat_id)).await?);
    Ok(())
}

#[tokio::test]
async fn a_monitoring_supervisor_who_accepts_the_chat_stops_monitoring_it() -> R {
    let k = Kit::new().await?;
    let boss = id("boss");
    k.agents.login(&boss).await?;
    let v = k.chat("Jo").await?;
    k.agents.monitor(&boss, &v.chat_id).await?;
    k.agents.set_ready(&boss, true).await?;
    assert_eq!(k.agents.status(&boss).await?.offers.len(), 1);
    let view = k.agents.accept(&boss, &v.chat_id).await?;
    let present: Vec<_> = view
        .participants
        .iter()
        .filter(|p| p.present() && p.agent_id.is_some())
        .map(|p| p.party_type)
        .collect();
    assert_eq!(present, [PartyType::Agent]);
    assert!(!k.customer_view(&v).await?.monitored);
    assert_eq!(k.send("boss", &v).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_take_over_withdraws_an_offer_and_a_queue_entry() -> R {
    let k = Kit::new().await?;
    k.agents.login(&id("a1")).await?;
    k.agents.set_ready(&id("a1"), true).await?;
    k.agents.login(&id("boss")).await?;
    let offered = k.chat("Jo").await?;
    assert_eq!(k.agents.status(&id("a1")).await?.offers.len(), 1);
    let mut bus = k.agents.bus().subscribe();
    k.agents.take_over(&id("boss"), &offered.chat_id).await?;
    let withdrawn: Vec<_> = drain(&mut bus)
        .into_iter()
        .filter_map(|e| match e {
            BusEvent::OfferWithdrawn {
                agent_id, reason, ..
            } => Some((agent_id, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(withdrawn, [(id("a1"), OfferEnd::TakenOver)]);
    assert!(k.agents.status(&id("a1")).await?.offers.is_empty());
    assert!(!k.routing(|r| r.is_routing(&offered.chat_id)).await?);
    let boss_chats = k.agents.status(&id("boss")).await?.chats;
    assert_eq!(boss_chats, std::slice::from_ref(&offered.chat_id));
    k.agents.set_ready(&id("a1"), false).await?;
    let waiting = k.chat("Kim").await?;
    assert_eq!(k.routing(RouterState::waiting_count).await?, 1);
    k.agents.take_over(&id("boss"), &waiting.chat_id).await?;
    assert_eq!(k.routing(RouterState::waiting_count).await?, 0);
    let kinds: Vec<_> = k
        .customer_view(&waiting)
        .await?
        .events
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [EventKind::ParticipantJoined, EventKind::ParticipantJoined]
    );
    Ok(())
}

#[tokio::test]
async fn only_logged_in_supervisors_supervise_and_they_read_any_chat() -> R {
    let k = Kit::new().await?;
    let v = k.accepted().await?;
    let (a2, boss) = (id("a2"), id("boss"));
    assert!(matches!(
        k.agents.supervisor_overview(&a2).await,
        Err(CoreError::Forbidden)
    ));
    k.agents.login(&a2).await?;
    assert!(matches!(
        k.agents.monitor(&a2, &v.chat_id).await,
        Err(CoreError::Forbidden)
    ));
    assert!(matches!(
        k.agents.take_over(&a2, &v.chat_id).await,
        Err(CoreError::Forbidden)
    ));
    assert!(matches!(
        k.agents.chat(&a2, &v.chat_id, EventIndex(1)).await,
        Err(CoreError::NotInChat)
    ));
    // Not logged in: the overview and reads, not monitoring.
    k.agents.supervisor_overview(&boss).await?;
    assert_eq!(
        k.agents
            .chat(&boss, &v.chat_id, EventIndex(1))
            .await?
            .events
            .len(),
        2
    );
    assert!(matches!(
        k.agents.monitor(&boss, &v.chat_id).await,
        Err(CoreError::NotLoggedIn)
    ));
    assert!(matches!(
        k.agents.take_over(&boss, &v.chat_id).await,
        Err(CoreError::NotLoggedIn)
    ));
    k.agents.login(&boss).await?;
    let unknown = ChatId::new("nope");
    assert!(matches!(
        k.agents.monitor(&boss, &unknown).await,
        Err(CoreError::ChatNotFound)
    ));
    k.agents.act(&id("a1"), &v.chat_id, AgentOp::End).await?;
    assert!(matches!(
        k.agents.monitor(&boss, &v.chat_id).await,
        Err(CoreError::ChatEnded)
    ));
    assert!(matches!(
        k.agents.take_over(&boss, &v.chat_id).await,
        Err(CoreError::ChatEnded)
    ));
    // Ended chats stay readable.
    assert!(k.agents.chat(&boss, &v.chat_id, EventIndex(1)).await?.ended);
    Ok(())
}
