//! Engine tests of the bounds: transcript size, attached data, attributes, answer pages,
//! rate limits, the ping refresh that acknowledges pushes, and abandoned chats.

use super::tests_shared_store::SVC;
use super::*;
use crate::error::CoreError;
use crate::event::EventKind;
use crate::ids::{EventIndex, NodeAlias, QueueName};
use crate::memstore::MemoryStore;
use crate::ports::Presence;
use crate::settings::{QueueSettings, ServiceLimits};
use chinwag_limits::Rate;
use std::net::IpAddr;
use std::sync::atomic::AtomicI64;

#[derive(Debug, Default)]
pub(super) struct ManualClock(pub(super) AtomicI64);

impl crate::ports::Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct Watched(Mutex<Vec<ChatId>>);

impl Presence for Watched {
    fn is_watched(&self, chat: &ChatId) -> bool {
        lock(&self.0).contains(chat)
    }
}

fn settings(limits: ServiceLimits) -> EngineSettings {
    settings_waiting(limits, None)
}

fn settings_waiting(limits: ServiceLimits, max_wait_ms: Option<i64>) -> EngineSettings {
    EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 100,
            max_message_length: 1000,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits,
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms,
        }],
        agents: Vec::new(),
        ended_retention_ms: 60_000,
        push: crate::push::PushSettings::default(),
        desk: Default::default(),
    }
}

async fn engine(limits: ServiceLimits) -> Result<(Arc<ChatEngine>, Arc<ManualClock>), CoreError> {
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let store = Arc::new(MemoryStore::default());
    let e = ChatEngine::open(settings(limits), store, clock.clone()).await?;
    Ok((e, clock))
}

fn ip(last: u8) -> Option<IpAddr> {
    Some(IpAddr::from([198, 51, 100, last]))
}

async fn chat(e: &ChatEngine, origin: Option<IpAddr>) -> Result<ChatView, CoreError> {
    let req = NewChat {
        service: "svc".into(),
        nickname: Some("Bob".into()),
        origin,
        ..NewChat::default()
    };
    e.request_chat(req, Selection::Nothing).await
}

fn creds(v: &ChatView) -> Credentials<'_> {
    Credentials {
        service: &SVC,
        chat_id: &v.chat_id,
        user_id: None,
        key: &v.secure_key,
        origin: None,
    }
}

fn send(text: &str) -> CustomerOp {
    CustomerOp::Send {
        text: text.into(),
        message_type: None,
        attributes: None,
    }
}

#[tokio::test]
async fn a_full_transcript_refuses_content_but_can_still_be_left() -> Result<(), CoreError> {
    let limits = ServiceLimits {
        max_events_per_chat: 3,
        ..ServiceLimits::default()
    };
    let (e, _) = engine(limits).await?;
    let v = chat(&e, None).await?;
    for t in ["one", "two"] {
        e.customer(creds(&v), send(t), Selection::Nothing).await?;
    }
    let full = e
        .customer(creds(&v), send("three"), Selection::Nothing)
        .await;
    assert!(matches!(full, Err(CoreError::TooLarge(_))), "{full:?}");
    let left = e
        .customer(creds(&v), CustomerOp::Disconnect, Selection::Nothing)
        .await?;
    assert!(left.ended);
    Ok(())
}

#[tokio::test]
async fn transcript_bytes_are_bounded_too() -> Result<(), CoreError> {
    let limits = ServiceLimits {
        max_chat_bytes: 1_000,
        ..ServiceLimits::default()
    };
    let (e, _) = engine(limits).await?;
    let v = chat(&e, None).await?;
    let mut refused = false;
    for _ in 0..20 {
        match e
            .customer(creds(&v), send(&"x".repeat(200)), Selection::Nothing)
            .await
        {
            Ok(_) => {}
            Err(CoreError::TooLarge(why)) => {
                assert!(why.contains("1000 bytes"), "{why}");
                refused = true;
                break;
            }
            Err(other) => return Err(other),
        }
    }
    assert!(
        refused,
        "20 messages of 200+ bytes cannot fit in 1000 bytes"
    );
    Ok(())
}

#[tokio::test]
async fn attached_data_and_attributes_are_bounded() -> Result<(), CoreError> {
    let limits = ServiceLimits {
        max_user_data_keys: 3,
        max_attributes_depth: 8,
        ..ServiceLimits::default()
    };
    let (e, _) = engine(limits).await?;
    let mut req = NewChat {
        service: "svc".into(),
        nickname: Some("Bob".into()),
        ..NewChat::default()
    };
    req.user_data = (0..4).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    let too_many = e.request_chat(req, Selection::Nothing).await;
    assert!(matches!(too_many, Err(CoreError::TooLarge(_))));
    let v = chat(&e, None).await?;
    let data = (0..2).map(|i| (format!("a{i}"), "v".to_owned())).collect();
    e.customer(
        creds(&v),
        CustomerOp::UpdateData { data },
        Selection::Nothing,
    )
    .await?;
    let data = (0..2).map(|i| (format!("b{i}"), "v".to_owned())).collect();
    let merged = e
        .customer(
            creds(&v),
            CustomerOp::UpdateData { data },
            Selection::Nothing,
        )
        .await;
    assert!(
        matches!(merged, Err(CoreError::TooLarge(_))),
        "the merged data (4 keys) is over the limit"
    );
    let mut deep = serde_json::json!(1);
    for _ in 0..127 {
        deep = serde_json::json!({ "a": deep });
    }
    let op = CustomerOp::Send {
        text: "x".into(),
        message_type: None,
        attributes: Some(deep),
    };
    let r = e.customer(creds(&v), op, Selection::Nothing).await;
    assert!(matches!(r, Err(CoreError::TooLarge(_))), "{r:?}");
    Ok(())
}

#[tokio::test]
async fn a_long_transcript_is_read_in_pages_exactly_once() -> Result<(), CoreError> {
    let limits = ServiceLimits {
        max_response_bytes: 2_000,
        ..ServiceLimits::default()
    };
    let (e, _) = engine(limits).await?;
    let v = chat(&e, None).await?;
    for i in 0..60 {
        e.customer(creds(&v), send(&format!("m{i}")), Selection::Nothing)
            .await?;
    }
    let mut pos = 1;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = e
            .read(creds(&v), None, Selection::From(EventIndex(pos)))
            .await?;
        pages += 1;
        if page.events.is_empty() {
            break;
        }
        let size: usize = page.events.iter().map(|e| e.wire_size()).sum();
        assert!(size <= 2_000, "a page holds at most the budget");
        seen.extend(page.events.iter().map(|e| e.index.0));
        pos = page.next_position.unwrap_or(0);
    }
    assert!(pages > 3, "60 events do not fit one 2000-byte page");
    assert_eq!(seen, (1..=61).collect::<Vec<u64>>());
    Ok(())
}

#[tokio::test]
async fn chat_creation_is_rate_limited_per_address() -> Result<(), CoreError> {
    let limits = ServiceLimits {
        create_per_ip: Rate::new(0.001, 2),
        ..ServiceLimits::default()
    };
    let (e, _) = engine(limits).await?;
    chat(&e, ip(1)).await?;
    chat(&e, ip(1)).await?;
    let third = chat(&e, ip(1)).await;
    assert!(matches!(
        third,
        Err(CoreError::RateLimited { creation: true, retry_after_secs }) if retry_after_secs > 0
    ));
    chat(&e, ip(2)).await?;
    chat(&e, None).await?;
    Ok(())
}

#[tokio::test]
async fn a_ping_refresh_acknowledges_everything_so_far() -> Result<(), CoreError> {
    let (e, _) = engine(ServiceLimits::default()).await?;
    let v = chat(&e, None).await?;
    e.customer(creds(&v), send("a"), Selection::Nothing).await?;
    assert_eq!(e.client_position(&v.chat_id), Some(0));
    e.read(creds(&v), None, Selection::Nothing).await?;
    assert_eq!(e.client_position(&v.chat_id), Some(3));
    Ok(())
}

#[tokio::test]
async fn a_send_without_message_type_is_text() -> Result<(), CoreError> {
    let (e, _) = engine(ServiceLimits::default()).await?;
    let v = chat(&e, None).await?;
    let r = e
        .customer(creds(&v), send("a"), Selection::From(EventIndex(2)))
        .await?;
    assert_eq!(r.events[0].message_type.as_deref(), Some("text"));
    Ok(())
}

#[tokio::test]
async fn silent_unwatched_chats_are_ended_with_a_notice() -> Result<(), CoreError> {
    let limits = ServiceLimits {
        abandon_after_ms: Some(10_000),
        ..ServiceLimits::default()
    };
    let (e, clock) = engine(limits).await?;
    let watched = Arc::new(Watched(Mutex::new(Vec::new())));
    e.set_presence(watched.clone());
    let (quiet, live, polled) = (
        chat(&e, None).await?,
        chat(&e, None).await?,
        chat(&e, None).await?,
    );
    lock(&watched.0).push(live.chat_id.clone());
    assert_eq!(e.open_sessions(), 3);
    clock.0.fetch_add(8_000, Ordering::Relaxed);
    e.read(creds(&polled), None, Selection::Nothing).await?;
    assert_eq!(e.end_abandoned().await, 0, "nobody silent for 10 s yet");
    clock.0.fetch_add(3_000, Ordering::Relaxed);
    assert_eq!(
        e.end_abandoned().await,
        1,
        "only the silent, unwatched chat"
    );
    assert_eq!(e.open_sessions(), 2);
    let end = e
        .read(creds(&quiet), None, Selection::From(EventIndex(1)))
        .await?;
    assert!(end.ended);
    let kinds: Vec<EventKind> = end.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::ParticipantJoined,
            EventKind::Notice,
            EventKind::ParticipantLeft
        ]
    );
    assert_eq!(end.events[1].text.as_deref(), Some(ABANDONED));
    assert_eq!(
        e.end_abandoned().await,
        0,
        "an ended chat is not ended again"
    );
    assert_eq!(e.open_sessions(), 2);
    Ok(())
}

#[tokio::test]
async fn a_chat_waiting_past_the_queue_maximum_is_ended_with_a_notice() -> Result<(), CoreError> {
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let store = Arc::new(MemoryStore::default());
    let settings = settings_waiting(ServiceLimits::default(), Some(1_000));
    let e = ChatEngine::open(settings, store, clock.clone()).await?;
    let v = chat(&e, None).await?;
    let worker = RoutingWorker::new(e.clone());
    let wait = worker.pass().await;
    assert!(
        wait <= std::time::Duration::from_millis(1_000),
        "wakes for the deadline"
    );
    assert_eq!(e.open_sessions(), 1, "not overdue yet");
    clock.0.fetch_add(1_000, Ordering::Relaxed);
    worker.pass().await;
    assert_eq!(e.open_sessions(), 0);
    let end = e
        .read(creds(&v), None, Selection::From(EventIndex(2)))
        .await?;
    assert!(end.ended);
    assert_eq!(end.events[0].text.as_deref(), Some(NO_AGENT));
    assert_eq!(end.events[1].kind, EventKind::ParticipantLeft);
    Ok(())
}
