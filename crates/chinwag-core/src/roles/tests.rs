//! The role handles over one engine: a customer's read changes nothing in the transcript,
//! its typing preview reaches the bus without being stored, a read receipt of no event is a
//! neutral error, and agents and routing see the chats customers start.

use super::customers::{Credentials, CustomerOp, NewChat, Selection};
use crate::bus::BusEvent;
use crate::error::CoreError;
use crate::ids::{AgentId, EventIndex, NodeAlias, QueueName, ServiceName};
use crate::memstore::MemoryStore;
use crate::ports::SystemClock;
use crate::settings::{
    AgentAccount, AgentRole, EngineSettings, QueueSettings, ServiceLimits, ServiceSettings,
};
use crate::{ChatEngine, engine::ChatView};
use std::sync::Arc;

fn settings() -> EngineSettings {
    EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 10,
            max_message_length: 20,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits: ServiceLimits::default(),
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: vec![AgentAccount {
            id: AgentId::new("a1"),
            name: "Alice".into(),
            token: "tok".into(),
            queues: vec![QueueName::new("q")],
            capacity: 2,
            role: AgentRole::Agent,
        }],
        ended_retention_ms: 0,
        push: crate::push::PushSettings {
            enabled: Vec::new(),
            on_join: false,
            timeout_ms: None,
            shutdown_notify: false,
        },
        desk: Default::default(),
    }
}

async fn engine() -> Result<Arc<ChatEngine>, CoreError> {
    ChatEngine::open(
        settings(),
        Arc::new(MemoryStore::default()),
        Arc::new(SystemClock),
    )
    .await
}

fn new_chat() -> NewChat {
    NewChat {
        service: "svc".into(),
        nickname: Some("Bob".into()),
        ..NewChat::default()
    }
}

fn creds<'a>(svc: &'a ServiceName, v: &'a ChatView) -> Credentials<'a> {
    Credentials {
        service: svc,
        chat_id: &v.chat_id,
        user_id: Some(&v.user_id),
        key: &v.secure_key,
        origin: None,
    }
}

#[tokio::test]
async fn a_read_changes_nothing_and_a_typing_preview_is_shown_not_stored() -> Result<(), CoreError>
{
    let e = engine().await?;
    let customers = e.customers();
    let svc = ServiceName::new("svc");
    let v = customers
        .request_chat(new_chat(), Selection::Nothing)
        .await?;
    let mut bus = customers.bus().subscribe();
    let all = Selection::From(EventIndex(1));
    let before = customers.read(creds(&svc, &v), all).await?;
    let typed = customers.read_typing(creds(&svc, &v), "hel", all).await?;
    let after = customers.read(creds(&svc, &v), all).await?;
    assert_eq!(before.events.len(), 1, "the customer's join only");
    assert_eq!(typed.events.len(), 1, "a preview is not an event");
    assert_eq!(after.events.len(), 1);
    match bus.try_recv() {
        Ok(BusEvent::TypingPreview { chat_id, text, .. }) => {
            assert_eq!((chat_id, &*text), (v.chat_id.clone(), "hel"));
        }
        other => panic!("expected the typing preview, got {other:?}"),
    }
    assert!(bus.try_recv().is_err(), "the plain reads published nothing");
    let long = "x".repeat(21);
    let refused = customers.read_typing(creds(&svc, &v), &long, all).await;
    assert!(matches!(
        refused,
        Err(CoreError::MessageTooLong { max: 20 })
    ));
    Ok(())
}

#[tokio::test]
async fn a_read_receipt_of_no_event_is_a_neutral_error() -> Result<(), CoreError> {
    let e = engine().await?;
    let customers = e.customers();
    let svc = ServiceName::new("svc");
    let v = customers
        .request_chat(new_chat(), Selection::Nothing)
        .await?;
    for index in [0, 2] {
        let op = CustomerOp::ReadReceipt {
            index: EventIndex(index),
        };
        let r = customers.act(creds(&svc, &v), op, Selection::Nothing).await;
        assert!(matches!(r, Err(CoreError::NoSuchEvent)), "{index}: {r:?}");
    }
    let op = CustomerOp::ReadReceipt {
        index: EventIndex(1),
    };
    customers
        .act(creds(&svc, &v), op, Selection::Nothing)
        .await?;
    Ok(())
}

#[tokio::test]
async fn an_account_without_a_token_is_not_signed_in_by_an_empty_one() -> Result<(), CoreError> {
    let mut s = settings();
    s.agents[0].token = String::new();
    let e = ChatEngine::open(s, Arc::new(MemoryStore::default()), Arc::new(SystemClock)).await?;
    assert!(matches!(
        e.agents().sign_in(""),
        Err(CoreError::Unauthorized)
    ));
    Ok(())
}

#[tokio::test]
async fn agents_and_routing_see_what_customers_start() -> Result<(), CoreError> {
    let e = engine().await?;
    let (customers, agents, routing) = (e.customers(), e.agents(), e.routing());
    assert!(matches!(
        agents.sign_in("nope"),
        Err(CoreError::Unauthorized)
    ));
    let me = agents.sign_in("tok")?;
    let v = customers
        .request_chat(new_chat(), Selection::Nothing)
        .await?;
    let seen = routing.overview().await?;
    assert_eq!(
        (seen.waiting, seen.offered),
        (1, 0),
        "waiting: no agent ready"
    );
    agents.login(&me).await?;
    agents.set_ready(&me, true).await?; // routing offers the chat now
    let seen = routing.overview().await?;
    assert_eq!((seen.waiting, seen.offered), (0, 1));
    assert_eq!(seen.agents.len(), 1);
    assert_eq!(seen.agents[0].offers.len(), 1);
    let chat = agents.accept(&me, &v.chat_id).await?;
    assert_eq!(chat.chat_id, v.chat_id);
    let chats = routing.overview().await?.agents[0].chats.clone();
    assert_eq!(chats, std::slice::from_ref(&v.chat_id));
    assert!(!routing.is_shared());
    Ok(())
}
