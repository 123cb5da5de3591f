//! Inactivity control on durable timers with a manual clock: alert, second alert and close
//! in order with the configured texts; customer activity and Widgets' "wake" reset the
//! clock, agent messages do not; nothing while disabled or before an agent joined; a new
//! engine on the same store closes on time, once; two engines on one store fire each step
//! once.

use super::limits_tests::ManualClock;
use super::tests_shared_store::{creds_of, open_chat, send, settings};
use super::*;
use crate::event::EventKind;
use crate::ids::{AgentId, EventIndex, QueueName};
use crate::memstore::MemoryStore;
use crate::settings::{AgentAccount, AgentRole, InactivitySettings};
use crate::timers::{TimerKey, TimerKind, Timers};
use std::sync::atomic::AtomicI64;

const T0: i64 = 1_000_000;
pub(super) const ALERT: i64 = 10_000;
pub(super) const ALERT2: i64 = 5_000;
pub(super) const CLOSE: i64 = 3_000;

pub(super) fn idle_settings(alias: u32, enabled: bool) -> EngineSettings {
    let mut s = settings(alias);
    s.services[0].limits.abandon_after_ms = None;
    s.services[0].inactivity = InactivitySettings {
        enabled,
        alert_after_ms: ALERT,
        alert2_after_ms: Some(ALERT2),
        close_after_ms: CLOSE,
        message_alert: "soon".into(),
        message_alert2: "very soon".into(),
        message_close: "closed".into(),
        ..InactivitySettings::default()
    };
    s.agents = vec![AgentAccount {
        id: AgentId::new("a1"),
        name: "Alice".into(),
        token: "tok".into(),
        queues: vec![QueueName::new("q")],
        capacity: 5,
        role: AgentRole::Agent,
    }];
    s
}

pub(super) struct Rig {
    pub(super) store: Arc<MemoryStore>,
    pub(super) clock: Arc<ManualClock>,
}

impl Rig {
    pub(super) fn new() -> Self {
        Self {
            store: Arc::new(MemoryStore::new_shared()),
            clock: Arc::new(ManualClock(AtomicI64::new(T0))),
        }
    }

    pub(super) async fn node(
        &self,
        alias: u32,
        enabled: bool,
    ) -> Result<Arc<ChatEngine>, CoreError> {
        let s = idle_settings(alias, enabled);
        ChatEngine::open(s, self.store.clone(), self.clock.clone()).await
    }

    pub(super) fn advance(&self, ms: i64) {
        self.clock.0.fetch_add(ms, Ordering::Relaxed);
    }
}

/// A chat on `e` that agent `a1` accepted.
pub(super) async fn staffed_chat(e: &ChatEngine) -> Result<(ChatView, AgentId), CoreError> {
    let chat = open_chat(e, Selection::Nothing).await?;
    let agent = e.authenticate("tok")?;
    e.agent_login(&agent).await?;
    e.agent_set_ready(&agent, true).await?;
    e.agent_accept(&agent, &chat.chat_id).await?;
    Ok((chat, agent))
}

/// The idle events and the end as the customer reads them: `(ended, [(kind, text)])`.
async fn idle_events(
    e: &ChatEngine,
    view: &ChatView,
) -> Result<(bool, Vec<(EventKind, String)>), CoreError> {
    let all = e
        .read(creds_of(view), None, Selection::From(EventIndex(1)))
        .await?;
    let idle = all
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::IdleAlert | EventKind::IdleClose))
        .map(|e| (e.kind, e.text.as_deref().unwrap_or_default().to_owned()))
        .collect();
    Ok((all.ended, idle))
}

fn alert(text: &str) -> (EventKind, String) {
    (EventKind::IdleAlert, text.to_owned())
}

fn close() -> (EventKind, String) {
    (EventKind::IdleClose, "closed".to_owned())
}

#[tokio::test]
async fn alert_alert2_and_close_come_in_order_with_their_texts() -> Result<(), CoreError> {
    let rig = Rig::new();
    let e = rig.node(1, true).await?;
    let (chat, _) = staffed_chat(&e).await?;
    rig.advance(ALERT - 1);
    e.end_abandoned().await;
    assert_eq!(idle_events(&e, &chat).await?, (false, vec![]), "not yet");
    rig.advance(1);
    e.end_abandoned().await;
    assert_eq!(idle_events(&e, &chat).await?, (false, vec![alert("soon")]));
    rig.advance(ALERT2 - 1);
    e.end_abandoned().await;
    assert_eq!(idle_events(&e, &chat).await?.1.len(), 1, "second not yet");
    rig.advance(1);
    e.end_abandoned().await;
    let two = vec![alert("soon"), alert("very soon")];
    assert_eq!(idle_events(&e, &chat).await?, (false, two.clone()));
    rig.advance(CLOSE - 1);
    assert_eq!(e.end_abandoned().await, 0, "close not yet");
    rig.advance(1);
    assert_eq!(e.end_abandoned().await, 1, "closed");
    let all = e
        .read(creds_of(&chat), None, Selection::From(EventIndex(1)))
        .await?;
    let tail: Vec<_> = all.events.iter().rev().take(2).map(|e| e.kind).collect();
    assert_eq!(
        tail,
        [EventKind::ParticipantLeft, EventKind::IdleClose],
        "the customer left after the close"
    );
    let mut all3 = two;
    all3.push(close());
    assert_eq!(idle_events(&e, &chat).await?, (true, all3));
    let key = TimerKey::new(TimerKind::Idle, chat.chat_id.clone());
    assert_eq!(rig.store.due(&key).await?, None, "timer gone");
    Ok(())
}

#[tokio::test]
async fn customer_activity_and_wake_reset_the_clock_agent_messages_do_not() -> Result<(), CoreError>
{
    let rig = Rig::new();
    let e = rig.node(1, true).await?;
    let (chat, agent) = staffed_chat(&e).await?;
    rig.advance(ALERT - 1);
    e.customer(creds_of(&chat), send("still here"), Selection::Nothing)
        .await?;
    rig.advance(ALERT - 1);
    e.end_abandoned().await;
    assert_eq!(idle_events(&e, &chat).await?.1, vec![], "message reset it");
    rig.advance(1);
    e.end_abandoned().await;
    assert_eq!(idle_events(&e, &chat).await?.1, vec![alert("soon")]);
    // Wake after the alert: the next alert is a first alert again, a whole ALERT later.
    let wake = CustomerOp::CustomNotice {
        text: None,
        attributes: Some(serde_json::json!({"purpose": "cancel-idle-timer"})),
    };
    e.customer(creds_of(&chat), wake, Selection::Nothing)
        .await?;
    rig.advance(ALERT2 + CLOSE);
    assert_eq!(e.end_abandoned().await, 0, "wake reset it");
    assert_eq!(idle_events(&e, &chat).await?.1.len(), 1);
    // An agent talking does not keep the chat open.
    e.agent_act(
        &agent,
        &chat.chat_id,
        AgentOp::Send {
            text: "anyone?".into(),
            message_type: None,
        },
    )
    .await?;
    rig.advance(ALERT - ALERT2 - CLOSE);
    e.end_abandoned().await;
    assert_eq!(idle_events(&e, &chat).await?.1, vec![alert("soon"); 2]);
    rig.advance(ALERT2);
    e.end_abandoned().await;
    rig.advance(CLOSE);
    assert_eq!(
        e.end_abandoned().await,
        1,
        "closed despite the agent's message"
    );
    Ok(())
}

#[tokio::test]
async fn disabled_or_no_agent_yet_means_nothing() -> Result<(), CoreError> {
    let rig = Rig::new();
    let off = rig.node(1, false).await?;
    let (chat, _) = staffed_chat(&off).await?;
    let key = TimerKey::new(TimerKind::Idle, chat.chat_id.clone());
    assert_eq!(rig.store.due(&key).await?, None, "no timer while disabled");
    let rig2 = Rig::new();
    let on = rig2.node(2, true).await?;
    let waiting = open_chat(&on, Selection::Nothing).await?;
    for _ in 0..3 {
        rig.advance(ALERT + ALERT2 + CLOSE);
        rig2.advance(ALERT + ALERT2 + CLOSE);
        assert_eq!(off.end_abandoned().await + on.end_abandoned().await, 0);
    }
    assert_eq!(idle_events(&off, &chat).await?, (false, vec![]));
    assert_eq!(idle_events(&on, &waiting).await?, (false, vec![]), "queued");
    Ok(())
}

#[tokio::test]
async fn a_new_engine_on_the_same_store_closes_on_time_once() -> Result<(), CoreError> {
    let rig = Rig::new();
    let a = rig.node(1, true).await?;
    let (chat, _) = staffed_chat(&a).await?;
    rig.advance(ALERT);
    a.end_abandoned().await;
    drop(a); // restart between alert and close
    let b = rig.node(1, true).await?;
    rig.advance(ALERT2 - 1);
    b.end_abandoned().await;
    assert_eq!(idle_events(&b, &chat).await?.1, vec![alert("soon")]);
    rig.advance(1);
    b.end_abandoned().await;
    rig.advance(CLOSE);
    assert_eq!(b.end_abandoned().await, 1);
    assert_eq!(b.end_abandoned().await, 0, "once");
    let (ended, events) = idle_events(&b, &chat).await?;
    assert!(ended);
    assert_eq!(events, vec![alert("soon"), alert("very soon"), close()]);
    Ok(())
}

#[tokio::test]
async fn two_engines_on_one_store_fire_each_step_once() -> Result<(), CoreError> {
    let rig = Rig::new();
    let a = rig.node(1, true).await?;
    let b = rig.node(2, true).await?;
    let (chat, _) = staffed_chat(&a).await?;
    let mut ended = 0;
    for step in [ALERT, ALERT2, CLOSE] {
        rig.advance(step);
        ended += b.end_abandoned().await + a.end_abandoned().await;
        ended += a.end_abandoned().await + b.end_abandoned().await;
    }
    assert_eq!(ended, 1);
    let (over, events) = idle_events(&a, &chat).await?;
    assert!(over);
    assert_eq!(events, vec![alert("soon"), alert("very soon"), close()]);
    Ok(())
}
