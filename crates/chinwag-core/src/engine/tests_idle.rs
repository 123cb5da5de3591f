//! Idle open chats leave memory and come back on demand (`idle.rs`): their customer, their
//! agents and the lifecycle pass still find them; their end frees their service's count once;
//! chats something on this node follows by the bus (a live watcher, a present agent) stay.

use super::limits_tests::ManualClock;
use super::tests_shared_store::{creds_of, open_chat, send, settings};
use super::*;
use crate::ids::{AgentId, EventIndex, QueueName};
use crate::memstore::MemoryStore;
use crate::ports::Presence;
use crate::settings::{AgentAccount, AgentRole};
use std::sync::atomic::AtomicI64;

const IDLE: i64 = 600_000;

fn with_agent(alias: u32) -> EngineSettings {
    let mut s = settings(alias);
    s.ended_retention_ms = 3_600_000;
    s.agents = vec![AgentAccount {
        id: AgentId::new("a1"),
        name: "Alice".into(),
        token: "tok".into(),
        queues: vec![QueueName::new("q")],
        capacity: 2,
        role: AgentRole::Agent,
    }];
    s
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock(AtomicI64::new(1_000_000)))
}

fn pass(clock: &ManualClock, ms: i64) {
    clock.0.fetch_add(ms, Ordering::Relaxed);
}

#[tokio::test]
async fn an_idle_open_chat_leaves_memory_and_its_customer_and_agent_find_it_again()
-> Result<(), CoreError> {
    let clock = clock();
    let e = ChatEngine::open(
        with_agent(1),
        Arc::new(MemoryStore::default()),
        clock.clone(),
    )
    .await?;
    let view = open_chat(&e, Selection::Nothing).await?;
    let creds = creds_of(&view);
    e.customer(creds, send("hello"), Selection::Nothing).await?;
    pass(&clock, IDLE - 1);
    assert_eq!(e.evict_idle(IDLE), 0, "not idle long enough yet");
    pass(&clock, 2);
    assert_eq!(e.evict_idle(IDLE), 1);
    assert_eq!(
        (e.cached_chats(), e.open_sessions()),
        (0, 1),
        "out of memory, still open"
    );
    let read = e.read(creds, None, Selection::From(EventIndex(1))).await?;
    assert_eq!(read.events.len(), 2, "whole transcript read back");
    assert_eq!(read.events[1].text.as_deref(), Some("hello"));
    assert_eq!(e.cached_chats(), 1, "back in memory");
    pass(&clock, IDLE + 1);
    assert_eq!(e.evict_idle(IDLE), 1);
    e.customer(creds, send("again"), Selection::Nothing).await?;
    pass(&clock, IDLE + 1);
    assert_eq!(e.evict_idle(IDLE), 1);
    // An agent is offered it, reads it, and accepts it (joins), each time from the store.
    let agent = e.authenticate("tok")?;
    e.agent_login(&agent).await?;
    e.agent_set_ready(&agent, true).await?;
    assert_eq!(e.agent_status(&agent).await?.offers.len(), 1);
    let seen = e.agent_chat(&agent, &view.chat_id, EventIndex(1)).await?;
    assert_eq!(seen.events.len(), 3);
    pass(&clock, IDLE + 1);
    assert_eq!(e.evict_idle(IDLE), 1);
    e.agent_accept(&agent, &view.chat_id).await?;
    pass(&clock, IDLE + 1);
    assert_eq!(e.evict_idle(IDLE), 0, "an agent is present: kept");
    assert_eq!(e.cached_chats(), 1);
    Ok(())
}

#[tokio::test]
async fn an_evicted_chat_frees_its_service_count_once_when_it_ends() -> Result<(), CoreError> {
    let clock = clock();
    let mut cfg = settings(1);
    cfg.ended_retention_ms = 3_600_000;
    cfg.services[0].max_sessions = 2;
    let e = ChatEngine::open(cfg, Arc::new(MemoryStore::default()), clock.clone()).await?;
    let one = open_chat(&e, Selection::Nothing).await?;
    let _two = open_chat(&e, Selection::Nothing).await?;
    pass(&clock, IDLE + 1);
    assert_eq!(e.evict_idle(IDLE), 2);
    assert!(
        matches!(
            open_chat(&e, Selection::Nothing).await,
            Err(CoreError::ServiceFull)
        ),
        "evicted chats still count"
    );
    e.customer(creds_of(&one), CustomerOp::Disconnect, Selection::Nothing)
        .await?;
    assert_eq!(e.open_sessions(), 1);
    // Its end, read again after it left memory once more, frees nothing more.
    let retention = RetentionWorker::new(e.clone(), std::time::Duration::from_secs(60));
    pass(&clock, EVICT_ENDED_AFTER_MS + 1);
    retention.sweep().await?;
    assert_eq!(e.cached_chats(), 0);
    let again = e.read(creds_of(&one), None, Selection::Nothing).await?;
    assert!(again.ended);
    e.customer(creds_of(&one), CustomerOp::Disconnect, Selection::Nothing)
        .await
        .err()
        .ok_or(CoreError::Unavailable)?;
    assert_eq!(e.open_sessions(), 1, "decremented exactly once");
    open_chat(&e, Selection::Nothing).await?;
    Ok(())
}

#[tokio::test]
async fn an_evicted_chat_ended_by_another_node_is_settled_once_here() -> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let clock = clock();
    let a = ChatEngine::open(settings(1), store.clone(), clock.clone()).await?;
    let b = ChatEngine::open(settings(2), store.clone(), clock.clone()).await?;
    let view = open_chat(&a, Selection::Nothing).await?;
    pass(&clock, IDLE + 1);
    assert_eq!(a.evict_idle(IDLE), 1);
    b.customer(creds_of(&view), CustomerOp::Disconnect, Selection::Nothing)
        .await?;
    assert_eq!(a.open_sessions(), 1, "A has not heard yet");
    let rev = store.revision(&view.chat_id).await?.unwrap_or(0);
    a.catch_up(&view.chat_id, rev).await?;
    assert_eq!(a.open_sessions(), 0, "the announcement settled it");
    a.catch_up(&view.chat_id, rev).await?;
    a.read(creds_of(&view), None, Selection::Nothing).await?;
    assert_eq!((a.open_sessions(), b.open_sessions()), (0, 0), "once");
    Ok(())
}

struct Watching(Mutex<Vec<ChatId>>);

impl Presence for Watching {
    fn is_watched(&self, chat: &ChatId) -> bool {
        lock(&self.0).contains(chat)
    }
}

#[tokio::test]
async fn a_chat_watched_by_a_live_client_or_in_use_is_not_evicted() -> Result<(), CoreError> {
    let clock = clock();
    let e = ChatEngine::open(settings(1), Arc::new(MemoryStore::default()), clock.clone()).await?;
    let view = open_chat(&e, Selection::Nothing).await?;
    let watching = Arc::new(Watching(Mutex::new(vec![view.chat_id.clone()])));
    e.set_presence(watching.clone());
    pass(&clock, IDLE + 1);
    assert_eq!(e.evict_idle(IDLE), 0, "watched here");
    lock(&watching.0).clear();
    let held = e.slot(&view.chat_id);
    pass(&clock, IDLE + 1);
    assert_eq!(e.evict_idle(IDLE), 0, "a request holds it");
    drop(held);
    assert_eq!(e.evict_idle(IDLE), 1, "nobody follows it any more");
    Ok(())
}

#[tokio::test]
async fn a_chat_with_an_agent_keeps_delivering_other_nodes_events_here() -> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let clock = clock();
    let a = ChatEngine::open(with_agent(1), store.clone(), clock.clone()).await?;
    let b = ChatEngine::open(with_agent(2), store.clone(), clock.clone()).await?;
    let view = open_chat(&a, Selection::Nothing).await?;
    let agent = a.authenticate("tok")?;
    a.agent_login(&agent).await?;
    a.agent_set_ready(&agent, true).await?;
    a.agent_accept(&agent, &view.chat_id).await?;
    let other = open_chat(&a, Selection::Nothing).await?;
    a.end_abandoned().await; // records what A saw of the customers (a shared store)
    pass(&clock, IDLE + 1);
    assert_eq!(a.evict_idle(IDLE), 1, "only the chat nobody follows");
    assert!(a.slot(&other.chat_id).is_none() && a.slot(&view.chat_id).is_some());
    // The agent's stream here hears what the customer sent through B.
    let mut bus = a.bus().subscribe();
    b.customer(creds_of(&view), send("through B"), Selection::Nothing)
        .await?;
    let rev = store.revision(&view.chat_id).await?.unwrap_or(0);
    a.catch_up(&view.chat_id, rev).await?;
    let heard = std::iter::from_fn(|| bus.try_recv().ok()).any(|ev| {
        matches!(ev, crate::bus::BusEvent::Transcript { event, agents, .. }
            if event.text.as_deref() == Some("through B") && agents.contains(&agent))
    });
    assert!(heard, "the agent's chat is caught up here");
    Ok(())
}

#[tokio::test]
async fn on_its_own_store_unknown_ids_cost_no_read_and_evicted_open_chats_are_found()
-> Result<(), CoreError> {
    // As in `tests_cache`: another engine writes a chat behind A's back; A never reads it.
    let store = Arc::new(MemoryStore::default());
    let clock = clock();
    let a = ChatEngine::open(settings(1), store.clone(), clock.clone()).await?;
    let b = ChatEngine::open(settings(2), store.clone(), clock.clone()).await?;
    let mine = open_chat(&a, Selection::Nothing).await?;
    let theirs = open_chat(&b, Selection::Nothing).await?;
    pass(&clock, IDLE + 1);
    assert_eq!(a.evict_idle(IDLE), 1);
    let unknown = a.read(creds_of(&theirs), None, Selection::Nothing).await;
    assert!(
        matches!(unknown, Err(CoreError::ChatNotFound)),
        "{unknown:?}"
    );
    a.customer(creds_of(&mine), send("still here"), Selection::Nothing)
        .await?;
    Ok(())
}

#[tokio::test]
async fn an_evicted_chat_is_still_abandoned() -> Result<(), CoreError> {
    let clock = clock();
    let mut cfg = settings(1);
    cfg.ended_retention_ms = 3_600_000;
    cfg.services[0].limits.abandon_after_ms = Some(IDLE * 2);
    let e = ChatEngine::open(cfg, Arc::new(MemoryStore::default()), clock.clone()).await?;
    let view = open_chat(&e, Selection::Nothing).await?;
    pass(&clock, IDLE + 1);
    assert_eq!(e.evict_idle(IDLE), 1);
    assert_eq!(e.end_abandoned().await, 0, "not silent long enough");
    assert_eq!(e.cached_chats(), 0, "and not loaded for nothing");
    pass(&clock, IDLE);
    assert_eq!(e.end_abandoned().await, 1);
    assert_eq!(e.open_sessions(), 0);
    let read = e.read(creds_of(&view), None, Selection::Nothing).await?;
    assert!(read.ended);
    Ok(())
}

#[tokio::test]
async fn an_evicted_subscribed_chat_still_gets_its_shutdown_notice() -> Result<(), CoreError> {
    let clock = clock();
    let mut cfg = settings(1);
    cfg.push.enabled = vec![crate::push::DeviceType::CustomHttp];
    cfg.push.shutdown_notify = true;
    cfg.push.on_join = true;
    let store = Arc::new(MemoryStore::default());
    let e = ChatEngine::open(cfg.clone(), store.clone(), clock.clone()).await?;
    let mut chat = NewChat {
        service: "svc".into(),
        nickname: Some("Bob".into()),
        ..NewChat::default()
    };
    for (k, v) in [
        ("GCTI_Chat_PushSubscribe", "true"),
        ("GCTI_GMS_PushDeviceId", "dev"),
        ("GCTI_GMS_PushDeviceType", "customhttp"),
    ] {
        chat.user_data.insert(k.into(), v.into());
    }
    let view = e.request_chat(chat, Selection::Nothing).await?;
    let plain = open_chat(&e, Selection::Nothing).await?;
    e.customer(creds_of(&plain), send("x"), Selection::Nothing)
        .await?;
    e.read(creds_of(&plain), None, Selection::Nothing).await?;
    pass(&clock, IDLE + 1);
    assert_eq!(e.evict_idle(IDLE), 2);
    assert_eq!(e.queue_shutdown_notices().await?, 1);
    assert_eq!(
        e.cached_chats(),
        1,
        "only the subscribed chat was loaded for it"
    );
    // Restarted from the headers: neither is held, the subscribed one is known as such.
    let again = ChatEngine::open(cfg, store, clock.clone()).await?;
    assert_eq!(again.cached_chats(), 0);
    assert_eq!(again.queue_shutdown_notices().await?, 1);
    assert_eq!(
        again.cached_chats(),
        1,
        "the subscribed chat, loaded for it"
    );
    // What the slot knew of pushes outlives its eviction: the customer's fetch position
    // (which acknowledges reliable pushes) and a device the provider called gone.
    assert_eq!(e.client_position(&plain.chat_id), Some(3));
    pass(&clock, IDLE + 1);
    assert_eq!(e.evict_idle(IDLE), 1);
    e.drop_push_device(&view.chat_id, "customhttp:dev");
    let pv = e.push_view(&view.chat_id, EventIndex(1)).await?;
    assert!(pv.is_some_and(|p| p.subscription.is_none()), "still gone");
    Ok(())
}

#[tokio::test]
async fn an_evicted_chat_waiting_past_its_queue_maximum_is_still_ended() -> Result<(), CoreError> {
    let clock = clock();
    let mut cfg = settings(1);
    cfg.ended_retention_ms = 3_600_000;
    cfg.queues[0].max_wait_ms = Some(IDLE * 2);
    let e = ChatEngine::open(cfg, Arc::new(MemoryStore::default()), clock.clone()).await?;
    let view = open_chat(&e, Selection::Nothing).await?;
    pass(&clock, IDLE + 1);
    assert_eq!(e.evict_idle(IDLE), 1);
    pass(&clock, IDLE);
    RoutingWorker::new(e.clone()).pass().await;
    assert_eq!(e.open_sessions(), 0, "ended by the routing worker");
    let read = e.read(creds_of(&view), None, Selection::Nothing).await?;
    assert!(read.ended);
    Ok(())
}

#[tokio::test]
async fn on_a_shared_store_a_chat_leaves_memory_only_once_its_customer_is_recorded()
-> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::new_shared());
    let clock = clock();
    let mut cfg = settings(1);
    cfg.services[0].limits.abandon_after_ms = Some(IDLE * 2);
    let a = ChatEngine::open(cfg, store.clone(), clock.clone()).await?;
    let view = open_chat(&a, Selection::Nothing).await?;
    pass(&clock, IDLE);
    a.read(creds_of(&view), None, Selection::Nothing).await?;
    pass(&clock, IDLE + 1);
    assert_eq!(a.evict_idle(IDLE), 0, "its last request is known only here");
    a.record_seen_pass().await;
    assert_eq!(a.evict_idle(IDLE), 1, "recorded: it may go");
    // Silent for the limit since its creation, not since its last request: kept open.
    pass(&clock, 2);
    assert_eq!(a.end_abandoned().await, 0);
    assert_eq!(a.open_sessions(), 1);
    pass(&clock, IDLE);
    assert_eq!(
        a.end_abandoned().await,
        1,
        "silent past the limit since its last request"
    );
    assert_eq!(a.open_sessions(), 0);
    Ok(())
}

#[tokio::test]
async fn after_a_restart_no_chat_is_held_until_it_is_used() -> Result<(), CoreError> {
    let store = Arc::new(MemoryStore::default());
    let clock = clock();
    let e = ChatEngine::open(with_agent(1), store.clone(), clock.clone()).await?;
    let followed = open_chat(&e, Selection::Nothing).await?;
    let unfollowed = open_chat(&e, Selection::Nothing).await?;
    let agent = e.authenticate("tok")?;
    e.agent_login(&agent).await?;
    e.agent_set_ready(&agent, true).await?;
    e.agent_accept(&agent, &followed.chat_id).await?;
    drop(e);
    let e = ChatEngine::open(with_agent(1), store, clock.clone()).await?;
    assert_eq!((e.cached_chats(), e.open_sessions()), (0, 2));
    assert_eq!(e.evict_idle(0), 0, "nothing to evict");
    e.customer(creds_of(&unfollowed), send("back"), Selection::Nothing)
        .await?;
    e.customer(creds_of(&followed), send("hi"), Selection::Nothing)
        .await?;
    assert_eq!(e.cached_chats(), 2, "loaded when used");
    Ok(())
}
