//! Supervision on two engines sharing one store and one routing state (two nodes on one
//! Redis): a take-over through one node moves the chat in the shared routing state, which the
//! other node reads, and an offer it withdraws is announced to the node of the agent.

use super::super::limits_tests::ManualClock;
use super::*;
use crate::bus::{BusEvent, OfferEnd};
use crate::engine::RoutingNewsWorker;
use crate::ids::{NodeAlias, QueueName, ServiceName};
use crate::memstore::{MemoryRoutingStore, MemoryStore};
use crate::ports::RoutingStore;
use crate::roles::customers::{NewChat, Selection};
use crate::settings::{EngineSettings, QueueSettings, ServiceSettings};
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn settings(alias: u32) -> EngineSettings {
    let account = |id: &str, role| AgentAccount {
        id: AgentId::new(id),
        name: id.into(),
        token: format!("{id}-token"),
        queues: vec![QueueName::new("q")],
        capacity: 2,
        role,
    };
    EngineSettings {
        alias: NodeAlias(alias),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 100,
            max_message_length: 100,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits: Default::default(),
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: vec![
            account("a1", AgentRole::Agent),
            account("boss", AgentRole::Supervisor),
        ],
        ended_retention_ms: 60_000,
        push: Default::default(),
    }
}

async fn chat(e: &ChatEngine) -> Result<ChatId, CoreError> {
    let req = NewChat {
        service: "svc".into(),
        nickname: Some("Jo".into()),
        ..NewChat::default()
    };
    Ok(e.request_chat(req, Selection::Nothing).await?.chat_id)
}

#[tokio::test]
async fn a_take_over_on_one_node_moves_the_chat_for_both_and_tells_the_agents_node() -> R {
    let store = Arc::new(MemoryStore::new_shared());
    let routing: Arc<dyn RoutingStore> = Arc::new(MemoryRoutingStore::default());
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let open = |alias| {
        ChatEngine::open_with(
            settings(alias),
            store.clone(),
            clock.clone(),
            Some(routing.clone()),
        )
    };
    let (a, b) = (open(1).await?, open(2).await?);
    let cancel = CancellationToken::new();
    let _stop = cancel.clone().drop_guard();
    let news = RoutingNewsWorker::new(a.clone()).ok_or(CoreError::Unavailable)?;
    tokio::spawn(news.run(cancel.clone()));
    let (a1, boss) = (AgentId::new("a1"), AgentId::new("boss"));
    a.agent_login(&a1).await?;
    a.agent_set_ready(&a1, true).await?;
    b.agent_login(&boss).await?;
    // Accepted through A, taken over through B.
    let accepted = chat(&b).await?;
    a.agent_accept(&a1, &accepted).await?;
    b.take_over(&boss, &accepted).await?;
    assert!(a.agent_status(&a1).await?.chats.is_empty());
    let boss_chats = a.agent_status(&boss).await?.chats;
    assert_eq!(boss_chats, std::slice::from_ref(&accepted));
    // Offered to the agent on A, taken over through B: A hears the withdrawal.
    let mut on_a = a.bus().subscribe();
    let offered = chat(&b).await?;
    let withdrawn = async {
        while let Ok(e) = on_a.recv().await {
            if let BusEvent::OfferWithdrawn {
                chat_id, reason, ..
            } = e
                && chat_id == offered
            {
                return Some(reason);
            }
        }
        None
    };
    let wait = tokio::time::timeout(Duration::from_secs(5), withdrawn);
    let (took, reason) = tokio::join!(b.take_over(&boss, &offered), wait);
    took?;
    assert_eq!(reason.ok().flatten(), Some(OfferEnd::TakenOver));
    let overview = a.supervisor_overview(&boss).await?;
    assert_eq!(
        (overview.queues[0].waiting, overview.queues[0].offered),
        (0, 0)
    );
    let all = a.agent_status(&boss).await?.chats;
    assert_eq!(all.len(), 2);
    assert!(!a.read_routing(|r| r.is_routing(&offered)).await?);
    Ok(())
}

type R = Result<(), CoreError>;
