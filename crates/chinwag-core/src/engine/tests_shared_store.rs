//! Two engines on one store (as two nodes would be): a chat created on one is served by the
//! other, and writes from both land once each, in order, because the store orders them.

use super::*;
use crate::event::EventKind;
use crate::ids::{EventIndex, NodeAlias, QueueName, SecureKey};
use crate::memstore::MemoryStore;
use crate::ports::SystemClock;
use crate::settings::QueueSettings;

pub(super) fn settings(alias: u32) -> EngineSettings {
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
            limits: crate::settings::ServiceLimits::default(),
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: Vec::new(),
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

pub(super) fn send(text: &str) -> CustomerOp {
    CustomerOp::Send {
        text: text.into(),
        message_type: None,
        attributes: None,
    }
}

/// A new chat on `e` (customer Bob, service `svc`).
pub(super) async fn open_chat(e: &ChatEngine, selection: Selection) -> Result<ChatView, CoreError> {
    let chat = NewChat {
        service: "svc".into(),
        nickname: Some("Bob".into()),
        ..NewChat::default()
    };
    e.request_chat(chat, selection).await
}

/// The service of the test chats.
pub(super) static SVC: std::sync::LazyLock<ServiceName> =
    std::sync::LazyLock::new(|| ServiceName::new("svc"));

/// The customer's credentials for `view`'s chat.
pub(super) fn creds_of(view: &ChatView) -> Credentials<'_> {
    Credentials {
        service: &SVC,
        chat_id: &view.chat_id,
        user_id: Some(&view.user_id),
        key: &view.secure_key,
        origin: None,
    }
}

async fn two_engines() -> Result<(Arc<ChatEngine>, Arc<ChatEngine>, Arc<MemoryStore>), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let a = ChatEngine::open(settings(1), store.clone(), Arc::new(SystemClock)).await?;
    let b = ChatEngine::open(settings(2), store.clone(), Arc::new(SystemClock)).await?;
    Ok((a, b, store))
}

/// The stored messages' texts, asserting the indexes run 1, 2, 3… with no gap or repeat.
async fn stored_texts(store: &MemoryStore, chat: &ChatId) -> Vec<String> {
    let stored = store.load(chat).await.ok().flatten();
    let stored = stored.unwrap_or_else(|| panic!("the chat is stored"));
    let idx: Vec<u64> = stored.events.iter().map(|e| e.index.0).collect();
    assert_eq!(idx, (1..=idx.len() as u64).collect::<Vec<_>>(), "indexes");
    stored
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Message)
        .filter_map(|e| e.text.as_deref().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_chat_created_on_one_engine_is_served_by_the_other() -> Result<(), CoreError> {
    let (a, b, store) = two_engines().await?;
    let view = open_chat(&a, Selection::From(EventIndex(1))).await?;
    let creds = creds_of(&view);
    // B has never seen the chat: it loads it from the store.
    let on_b = b
        .customer(creds, send("via b"), Selection::From(EventIndex(1)))
        .await?;
    assert_eq!(on_b.events.len(), 2, "B serves the whole transcript");
    // A's copy is one revision behind: its commit conflicts, it reloads and appends after B's.
    let on_a = a
        .customer(creds, send("via a"), Selection::From(EventIndex(1)))
        .await?;
    let texts: Vec<_> = on_a
        .events
        .iter()
        .filter_map(|e| e.text.as_deref())
        .collect();
    assert_eq!(
        texts,
        ["via b", "via a"],
        "A sees B's message before its own"
    );
    assert_eq!(
        stored_texts(&store, &view.chat_id).await,
        ["via b", "via a"]
    );
    // Wrong credentials are refused on the engine that loads the chat, too.
    let c = ChatEngine::open(settings(3), store.clone(), Arc::new(SystemClock)).await?;
    let not_the_key = SecureKey::new("not the key");
    let wrong = Credentials {
        key: &not_the_key,
        ..creds
    };
    let refused = c.customer(wrong, send("x"), Selection::Nothing).await;
    assert!(
        matches!(refused, Err(CoreError::ChatNotFound)),
        "{refused:?}"
    );
    Ok(())
}

#[tokio::test]
async fn racing_writers_on_two_engines_each_land_exactly_once() -> Result<(), CoreError> {
    let (a, b, store) = two_engines().await?;
    let view = open_chat(&a, Selection::Nothing).await?;
    let (chat, user, key) = (view.chat_id.clone(), view.user_id.clone(), view.secure_key);
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..40 {
        let engine = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (chat, user, key) = (chat.clone(), user.clone(), key.clone());
        sends.spawn(async move {
            let creds = Credentials {
                service: &SVC,
                chat_id: &chat,
                user_id: Some(&user),
                key: &key,
                origin: None,
            };
            engine
                .customer(creds, send(&format!("m{i}")), Selection::Nothing)
                .await
                .map(|_| ())
        });
    }
    while let Some(r) = sends.join_next().await {
        r.map_err(|e| CoreError::InvalidArgument(e.to_string()))??;
    }
    let mut texts = stored_texts(&store, &chat).await;
    texts.sort();
    let mut want: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(texts, want, "every acknowledged message stored once");
    Ok(())
}

#[tokio::test]
async fn on_a_shared_store_a_read_sees_what_the_other_engine_wrote() -> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let a = ChatEngine::open(settings(1), store.clone(), Arc::new(SystemClock)).await?;
    let b = ChatEngine::open(settings(2), store.clone(), Arc::new(SystemClock)).await?;
    let view = open_chat(&a, Selection::Nothing).await?;
    let creds = creds_of(&view);
    b.customer(creds, send("via b"), Selection::Nothing).await?;
    let on_a = a.read(creds, None, Selection::From(EventIndex(2))).await?;
    let texts: Vec<_> = on_a
        .events
        .iter()
        .filter_map(|e| e.text.as_deref())
        .collect();
    assert_eq!(texts, ["via b"], "A's poll reads B's message");
    b.customer(creds, CustomerOp::Disconnect, Selection::Nothing)
        .await?;
    let pv = a.push_view(&view.chat_id, EventIndex(3)).await?;
    assert!(
        pv.is_some_and(|p| p.ended),
        "A's push worker sees the end B wrote"
    );
    Ok(())
}

#[tokio::test]
async fn a_write_from_a_stale_copy_conflicts_reloads_and_lands_after() -> Result<(), CoreError> {
    let (_, b, store) = two_engines().await?;
    let mut cfg = settings(1);
    cfg.agents = vec![crate::settings::AgentAccount {
        id: crate::ids::AgentId::new("a1"),
        name: "Alice".into(),
        token: "tok".into(),
        queues: vec![QueueName::new("q")],
        capacity: 2,
        role: crate::settings::AgentRole::Agent,
    }];
    let a = ChatEngine::open(cfg, store.clone(), Arc::new(SystemClock)).await?;
    let view = open_chat(&a, Selection::Nothing).await?;
    let agent = a.authenticate("tok")?;
    a.agent_login(&agent).await?;
    a.agent_set_ready(&agent, true).await?;
    a.agent_accept(&agent, &view.chat_id).await?;
    b.customer(creds_of(&view), send("customer via b"), Selection::Nothing)
        .await?;
    // The agent's write starts from A's copy, which misses B's message: the store refuses
    // it, A reloads and computes the agent's message again, after the customer's.
    let sent = a
        .agent_act(
            &agent,
            &view.chat_id,
            AgentOp::Send {
                text: "agent via a".into(),
                message_type: None,
            },
        )
        .await?;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        stored_texts(&store, &view.chat_id).await,
        ["customer via b", "agent via a"]
    );
    Ok(())
}
