//! The agent's desk through the engine: not-ready reasons validated and kept, canned
//! responses per served queue, the chat view's queue, and blind transfer — to a queue (the
//! back of it, offered to an agent serving it) or to an agent (offered at once though not
//! ready; a rejection sends the chat to the head of its service's queue) — with refused
//! targets changing nothing.

use crate::ChatEngine;
use crate::error::CoreError;
use crate::event::EventKind;
use crate::ids::{AgentId, ChatId, NodeAlias, QueueName, ServiceName};
use crate::memstore::MemoryStore;
use crate::ports::SystemClock;
use crate::roles::customers::{NewChat, Selection};
use crate::roles::desk::{TransferError, TransferTarget};
use crate::settings::{
    AgentAccount, AgentRole, CannedResponse, DeskSettings, EngineSettings, QueueSettings,
    ServiceSettings,
};
use std::sync::Arc;

fn queue(name: &str) -> QueueSettings {
    QueueSettings {
        name: QueueName::new(name),
        offer_timeout_ms: 60_000,
        max_wait_ms: None,
    }
}

fn agent(id: &str, queue: &str, capacity: u32, role: AgentRole) -> AgentAccount {
    AgentAccount {
        id: AgentId::new(id),
        name: id.to_uppercase(),
        token: format!("{id}-token"),
        queues: vec![QueueName::new(queue)],
        capacity,
        role,
    }
}

/// Service `svc` → queue `q`; `a1`, `a2` serve `q`, `a3` serves `q2`; `boss` supervises.
async fn engine() -> Result<Arc<ChatEngine>, CoreError> {
    let settings = EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 10,
            max_message_length: 100,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits: Default::default(),
        }],
        queues: vec![queue("q"), queue("q2")],
        agents: vec![
            agent("a1", "q", 3, AgentRole::Agent),
            agent("a2", "q", 1, AgentRole::Agent),
            agent("a3", "q2", 1, AgentRole::Agent),
            agent("boss", "q2", 1, AgentRole::Supervisor),
        ],
        ended_retention_ms: 0,
        push: Default::default(),
        desk: DeskSettings {
            not_ready_reasons: vec!["Coffee".into(), "Lunch".into()],
            canned: vec![(
                QueueName::new("q2"),
                vec![CannedResponse {
                    label: "Hi".into(),
                    text: "Hello!".into(),
                }],
            )],
        },
    };
    ChatEngine::open(
        settings,
        Arc::new(MemoryStore::default()),
        Arc::new(SystemClock),
    )
    .await
}

fn id(s: &str) -> AgentId {
    AgentId::new(s)
}

/// A new chat accepted by `a1` (logged in and ready, then not ready again).
async fn chat_with_a1(e: &Arc<ChatEngine>) -> Result<ChatId, CoreError> {
    let new = NewChat {
        service: ServiceName::new("svc"),
        nickname: Some("Bob".into()),
        ..NewChat::default()
    };
    let v = e.customers().request_chat(new, Selection::Nothing).await?;
    let agents = e.agents();
    agents.login(&id("a1")).await?;
    agents.set_ready(&id("a1"), true).await?;
    let view = agents.accept(&id("a1"), &v.chat_id).await?;
    assert_eq!(view.queue, QueueName::new("q"), "the view names its queue");
    agents.set_state(&id("a1"), false, None).await?;
    Ok(v.chat_id)
}

#[tokio::test]
async fn reasons_are_validated_defaulted_and_kept() -> Result<(), CoreError> {
    let e = engine().await?;
    let agents = e.agents();
    let me = id("a1");
    let status = agents.login(&me).await?;
    assert_eq!(status.reason.as_deref(), Some("Coffee"), "the first reason");
    let status = agents.set_state(&me, false, Some("Lunch")).await?;
    assert_eq!(
        (status.ready, status.reason.as_deref()),
        (false, Some("Lunch"))
    );
    for (ready, reason) in [(false, "Break"), (true, "Lunch")] {
        let refused = agents.set_state(&me, ready, Some(reason)).await;
        assert!(
            matches!(refused, Err(CoreError::InvalidArgument(_))),
            "{refused:?}"
        );
    }
    assert_eq!(agents.status(&me).await?.reason.as_deref(), Some("Lunch"));
    let status = agents.set_state(&me, true, None).await?;
    assert_eq!((status.ready, status.reason), (true, None));
    let status = agents.set_state(&me, false, None).await?;
    assert_eq!(status.reason.as_deref(), Some("Coffee"));
    agents.logout(&me).await?;
    assert_eq!(agents.status(&me).await?.reason, None, "logged out");
    assert_eq!(agents.not_ready_reasons(), ["Coffee", "Lunch"]);
    Ok(())
}

#[tokio::test]
async fn canned_responses_are_those_of_the_served_queues() -> Result<(), CoreError> {
    let e = engine().await?;
    let agents = e.agents();
    let mine = agents.canned(&id("a1"))?;
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].queue.as_str(), mine[0].responses.len()), ("q", 0));
    let mine = agents.canned(&id("a3"))?;
    assert_eq!(mine[0].responses[0].text, "Hello!");
    let all: Vec<String> = agents
        .canned(&id("boss"))?
        .into_iter()
        .map(|c| c.queue.to_string())
        .collect();
    assert_eq!(all, ["q", "q2"], "a supervisor: every queue, in order");
    Ok(())
}

#[tokio::test]
async fn refused_targets_change_nothing() -> Result<(), CoreError> {
    let e = engine().await?;
    let chat = chat_with_a1(&e).await?;
    let agents = e.agents();
    let me = id("a1");
    let before = e.routing().overview().await?;
    let cases = [
        (
            TransferTarget::Queue(QueueName::new("nope")),
            "no such queue",
        ),
        (TransferTarget::Agent(id("nobody")), "no such agent"),
        (TransferTarget::Agent(id("a2")), "not logged in"),
        (TransferTarget::Agent(me.clone()), "yourself"),
    ];
    for (target, expected) in cases {
        let refused = agents.transfer(&me, &chat, target).await;
        let text = refused.as_ref().err().map(ToString::to_string);
        assert!(
            text.as_deref().is_some_and(|t| t.contains(expected)),
            "{refused:?}"
        );
    }
    assert!(matches!(
        agents
            .transfer(&me, &chat, TransferTarget::Queue(QueueName::new("nope")))
            .await,
        Err(CoreError::Transfer(TransferError::NoSuchQueue))
    ));
    let view = agents.chat(&me, &chat, crate::ids::EventIndex(1)).await?;
    assert_eq!(view.events.len(), 2, "joins only: nothing was written");
    let after = e.routing().overview().await?;
    assert_eq!(
        format!("{:?}", after.agents[0].chats),
        format!("{:?}", before.agents[0].chats)
    );
    assert_eq!((after.waiting, after.offered), (0, 0));
    Ok(())
}

#[tokio::test]
async fn a_transfer_to_an_agent_offers_it_though_not_ready_and_a_rejection_heads_the_queue()
-> Result<(), CoreError> {
    let e = engine().await?;
    let chat = chat_with_a1(&e).await?;
    let other = chat_with_a1(&e).await?;
    let agents = e.agents();
    let mut bus = agents.bus().subscribe();
    agents.login(&id("a2")).await?; // not ready
    let left = agents
        .transfer(&id("a1"), &chat, TransferTarget::Agent(id("a2")))
        .await?;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind, EventKind::ParticipantLeft);
    let a2 = agents.status(&id("a2")).await?;
    assert_eq!(a2.offers.len(), 1, "offered though not ready");
    assert_eq!(a2.offers[0].chat_id, chat);
    let offered = std::iter::from_fn(|| bus.try_recv().ok()).any(
        |ev| matches!(ev, crate::bus::BusEvent::Offered { agent_id, .. } if agent_id == id("a2")),
    );
    assert!(offered, "an offer on a2's stream");
    assert!(!agents.status(&id("a1")).await?.chats.contains(&chat));
    // a2 is full now: another transfer to it is refused.
    let full = agents
        .transfer(&id("a1"), &other, TransferTarget::Agent(id("a2")))
        .await;
    assert!(matches!(
        full,
        Err(CoreError::Transfer(TransferError::AgentUnavailable))
    ));
    // Queue `q` gets another waiting chat behind which the rejected one must go first.
    agents
        .transfer(
            &id("a1"),
            &other,
            TransferTarget::Queue(QueueName::new("q")),
        )
        .await?;
    agents.reject(&id("a2"), &chat).await?;
    let heads = e.read_routing(|r| r.queue_position(&chat)).await?;
    assert_eq!(heads, Some(0), "at the head of its service's queue");
    assert_eq!(e.read_routing(|r| r.queue_position(&other)).await?, Some(1));
    Ok(())
}

#[tokio::test]
async fn a_transfer_to_a_queue_waits_at_its_back_for_an_agent_serving_it() -> Result<(), CoreError>
{
    let e = engine().await?;
    let (first, second) = (chat_with_a1(&e).await?, chat_with_a1(&e).await?);
    let agents = e.agents();
    let q2 = || TransferTarget::Queue(QueueName::new("q2"));
    agents.transfer(&id("a1"), &first, q2()).await?;
    agents.transfer(&id("a1"), &second, q2()).await?;
    assert_eq!(
        e.read_routing(|r| r.queue_position(&second)).await?,
        Some(1)
    );
    agents.set_ready(&id("a1"), true).await?;
    assert!(
        agents.status(&id("a1")).await?.offers.is_empty(),
        "a1 does not serve q2"
    );
    agents.login(&id("a3")).await?;
    agents.set_ready(&id("a3"), true).await?;
    let a3 = agents.status(&id("a3")).await?;
    let offered: Vec<ChatId> = a3.offers.iter().map(|o| o.chat_id.clone()).collect();
    assert_eq!(
        offered,
        std::slice::from_ref(&first),
        "the first at the head, to a3"
    );
    let joined = agents.accept(&id("a3"), &first).await?;
    assert_eq!(
        joined.queue,
        QueueName::new("q"),
        "still its service's queue"
    );
    Ok(())
}
