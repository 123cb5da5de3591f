//! A chat's abandon timer on SQLite survives a restart between being set and falling due:
//! the engine opened on the reopened database ends the silent chat once (silence counted
//! from the restart: the customer could not reach a node that was down).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_core::ChatEngine;
use chinwag_core::engine::ABANDONED;
use chinwag_core::ids::{EventIndex, NodeAlias, QueueName, ServiceName};
use chinwag_core::ports::ChatStore;
use chinwag_core::roles::customers::{Credentials, NewChat, Selection};
use chinwag_core::settings::{EngineSettings, QueueSettings, ServiceLimits, ServiceSettings};
use chinwag_core::timers::{TimerKey, TimerKind, Timers};
use chinwag_store_conformance::restart::ManualClock;
use chinwag_store_sqlite::{SqliteOptions, SqliteStore};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

const LIMIT_MS: i64 = 10_000;

fn settings() -> EngineSettings {
    EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 10,
            max_message_length: 100,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits: ServiceLimits {
                abandon_after_ms: Some(LIMIT_MS),
                ..ServiceLimits::default()
            },
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: Vec::new(),
        ended_retention_ms: 3_600_000,
        push: chinwag_core::push::PushSettings::default(),
        desk: Default::default(),
    }
}

async fn engine(path: &Path, clock: &Arc<ManualClock>) -> (Arc<ChatEngine>, Arc<SqliteStore>) {
    let store = Arc::new(SqliteStore::open(path, &SqliteOptions::default()).unwrap());
    let e = ChatEngine::open(settings(), store.clone(), clock.clone())
        .await
        .unwrap();
    (e, store)
}

#[tokio::test]
async fn a_timer_set_before_a_restart_fires_after_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let (e, store) = engine(&path, &clock).await;
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
    let key = TimerKey::new(TimerKind::Abandon, view.chat_id.clone());
    assert_eq!(
        store.due(&key).await.unwrap(),
        Some(1_000_000 + LIMIT_MS + 1)
    );
    drop((e, store));
    clock.0.fetch_add(1_000, Ordering::Relaxed);
    let (e, store) = engine(&path, &clock).await;
    assert_eq!(
        store.due(&key).await.unwrap(),
        Some(1_000_000 + LIMIT_MS + 1),
        "the timer survived the restart"
    );
    clock.0.fetch_add(LIMIT_MS, Ordering::Relaxed);
    assert_eq!(
        e.end_abandoned().await,
        0,
        "10 s since the restart: not yet"
    );
    clock.0.fetch_add(1, Ordering::Relaxed);
    assert_eq!(e.end_abandoned().await, 1, "silent past the limit");
    assert_eq!(e.end_abandoned().await, 0, "once");
    assert_eq!(store.due(&key).await.unwrap(), None);
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
    let notices: Vec<&str> = all
        .events
        .iter()
        .filter_map(|e| e.text.as_deref())
        .collect();
    assert_eq!(notices, [ABANDONED]);
    assert!(store.load(&view.chat_id).await.unwrap().is_some());
}
