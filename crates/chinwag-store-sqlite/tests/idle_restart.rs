//! Inactivity control on SQLite survives a restart between the first alert and the close:
//! the engine opened on the reopened database sends the second alert and closes the chat on
//! time, once, with each step recorded once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ChatEngine;
use chinwag_core::event::EventKind;
use chinwag_core::ids::{AgentId, EventIndex, NodeAlias, QueueName, ServiceName};
use chinwag_core::roles::customers::{Credentials, NewChat, Selection};
use chinwag_core::settings::{
    AgentAccount, AgentRole, EngineSettings, InactivitySettings, QueueSettings, ServiceLimits,
    ServiceSettings,
};
use chinwag_store_conformance::restart::ManualClock;
use chinwag_store_sqlite::{SqliteOptions, SqliteStore};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

const ALERT: i64 = 10_000;
const ALERT2: i64 = 4_000;
const CLOSE: i64 = 2_000;

fn settings() -> EngineSettings {
    EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 10,
            max_message_length: 100,
            maintenance: false,
            inactivity: InactivitySettings {
                enabled: true,
                alert_after_ms: ALERT,
                alert2_after_ms: Some(ALERT2),
                close_after_ms: CLOSE,
                ..InactivitySettings::default()
            },
            limits: ServiceLimits {
                abandon_after_ms: None,
                ..ServiceLimits::default()
            },
            files: Default::default(),
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: vec![AgentAccount {
            id: AgentId::new("a1"),
            name: "Alice".into(),
            token: "agent-token".into(),
            queues: vec![QueueName::new("q")],
            capacity: 2,
            role: AgentRole::Agent,
        }],
        ended_retention_ms: 3_600_000,
        push: chinwag_core::push::PushSettings::default(),
        desk: Default::default(),
    }
}

async fn engine(path: &Path, clock: &Arc<ManualClock>) -> Arc<ChatEngine> {
    let store = Arc::new(SqliteStore::open(path, &SqliteOptions::default()).unwrap());
    ChatEngine::open(settings(), store, clock.clone())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_restart_between_alert_and_close_still_closes_on_time_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idle.db");
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let tick = |ms: i64| clock.0.fetch_add(ms, Ordering::Relaxed);
    let e = engine(&path, &clock).await;
    let chat = NewChat {
        service: "svc".into(),
        nickname: Some("Bob".into()),
        ..NewChat::default()
    };
    let view = e
        .customers()
        .request_chat(chat, Selection::Nothing)
        .await
        .unwrap();
    let agents = e.agents();
    let agent = agents.sign_in("agent-token").unwrap();
    agents.login(&agent).await.unwrap();
    agents.set_ready(&agent, true).await.unwrap();
    agents.accept(&agent, &view.chat_id).await.unwrap();
    tick(ALERT);
    assert_eq!(e.end_abandoned().await, 0);
    drop((e, agents));
    let e = engine(&path, &clock).await;
    tick(ALERT2);
    assert_eq!(e.end_abandoned().await, 0, "second alert");
    tick(CLOSE - 1);
    assert_eq!(e.end_abandoned().await, 0, "not yet");
    tick(1);
    assert_eq!(e.end_abandoned().await, 1, "closed on time");
    assert_eq!(e.end_abandoned().await, 0, "once");
    let svc = ServiceName::new("svc");
    let creds = Credentials {
        service: &svc,
        chat_id: &view.chat_id,
        user_id: Some(&view.user_id),
        key: &view.secure_key,
        origin: None,
    };
    let all = e
        .customers()
        .read(creds, Selection::From(EventIndex(1)))
        .await
        .unwrap();
    assert!(all.ended);
    let idle: Vec<EventKind> = all
        .events
        .iter()
        .map(|e| e.kind)
        .filter(|k| matches!(k, EventKind::IdleAlert | EventKind::IdleClose))
        .collect();
    assert_eq!(
        idle,
        [
            EventKind::IdleAlert,
            EventKind::IdleAlert,
            EventKind::IdleClose
        ]
    );
}
