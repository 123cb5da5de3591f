//! Inactivity control (Chat Server's `[inactivity-control]`) on durable timers
//! ([`crate::timers`]): a chat of a service with it enabled gets an `idle` timer when it is
//! created (in the same store call as its abandon timer), due when its customer could first
//! deserve an alert. Whichever node claims the due timer reads the chat's transcript, which
//! alone says where the chat stands: the clock starts at the customer's latest activity
//! (a message, Widgets' "wake" — a `CustomNotice` with `{"purpose":"cancel-idle-timer"}` —,
//! the notices `include_notices` names) or an agent's joining, whichever is latest (the
//! chat's creation if none), and the `IdleAlert`s recorded since say which alerts went out.
//! Firing records the next step (first alert, second alert, or `IdleClose` with the
//! customer's `ParticipantLeft`, ending the chat) and moves the timer to the step after, or
//! moves it to when the step is due if the customer was active meanwhile. Nothing is written
//! on a request's path and nothing is held in memory per chat; a step recorded twice is
//! impossible (the transcript read under the chat's write gate shows it done), so a timer
//! fired again after a crash does nothing new.
//!
//! The clock runs only while an agent is in the chat: a customer waiting in the queue is
//! not alerted (the queue's `max_wait` bounds that wait); agents' and supervisors' own
//! silence or messages never move it.

use super::ChatEngine;
use crate::error::CoreError;
use crate::event::{Event, EventKind, PartyType, UserData};
use crate::ids::{ChatId, ServiceName};
use crate::session::{Change, Session};
use crate::settings::{IdleNotices, InactivitySettings};
use crate::timers::{DueTimer, TimerKey, TimerKind};

/// The step after an alert, as the alert's `userData` announces it to the customer
/// (`next-idle-timer-type`, `next-idle-timer-secs`: Widgets count down from these).
#[derive(Debug, PartialEq)]
struct Next {
    /// `ALERT` (the second alert) or `CLOSE`.
    kind: &'static str,
    /// Milliseconds until it.
    ms: i64,
}

impl Next {
    fn after(kind: &'static str, ms: i64) -> Self {
        Self { kind, ms }
    }

    fn user_data(&self) -> UserData {
        UserData::from([
            ("next-idle-timer-type".to_owned(), self.kind.to_owned()),
            (
                "next-idle-timer-secs".to_owned(),
                (self.ms / 1000).to_string(),
            ),
        ])
    }
}

/// What a chat's inactivity control does now.
#[derive(Debug, PartialEq)]
enum Step {
    /// Nothing yet; look again at this time.
    Wait(i64),
    /// Records an `IdleAlert` with this text (empty: none) announcing the next step; that
    /// step is due at `.1`.
    Alert(String, i64, Next),
    /// Records `IdleClose` and ends the chat.
    Close,
    /// The chat ended meanwhile: the timer is done.
    Done,
}

impl ChatEngine {
    /// The `idle` timer of a chat of `service` whose customer was last active at `at_ms`
    /// (`None`: its service has inactivity control off).
    pub(super) fn idle_timer(
        &self,
        chat: &ChatId,
        service: &ServiceName,
        at_ms: i64,
    ) -> Option<(TimerKey, i64)> {
        let idle = &self.services.get(service)?.settings.inactivity;
        idle.enabled.then(|| {
            let key = TimerKey::new(TimerKind::Idle, chat.clone());
            (key, at_ms.saturating_add(idle.alert_after_ms))
        })
    }

    /// Fires a chat's `idle` timer; `true`: the chat was closed here.
    pub(super) async fn fire_idle(&self, timer: &DueTimer) -> Result<bool, CoreError> {
        let slot = self.fresh_slot(&timer.key.chat).await?;
        let idle = slot.as_ref().and_then(|slot| {
            let s = super::lock(&slot.state);
            let svc = self.service(s.record.service.as_str())?;
            (!s.ended() && svc.inactivity.enabled).then(|| svc.inactivity.clone())
        });
        let (Some(slot), Some(idle)) = (slot, idle) else {
            // Ended, purged, never stored, or its service turned inactivity control off.
            self.store.complete(timer).await?;
            return Ok(false);
        };
        let now = self.now_ms();
        let mut step = Step::Close;
        let (service, chat, agents) = self
            .write(
                &slot,
                |s| {
                    step = if s.ended() {
                        Step::Done
                    } else {
                        next_step(s, &idle, now)
                    };
                    Ok(match &step {
                        Step::Wait(_) | Step::Done => Change::default(),
                        Step::Alert(text, _, next) => {
                            let mut c = s.system_event(EventKind::IdleAlert, non_empty(text), now);
                            for e in &mut c.events {
                                e.user_data = Some(Box::new(next.user_data()));
                            }
                            c
                        }
                        Step::Close => {
                            let text = non_empty(&idle.message_close);
                            s.close_with(EventKind::IdleClose, text, now)
                        }
                    })
                },
                |s| {
                    (
                        s.record.service.clone(),
                        s.record.chat_id.clone(),
                        s.present_accounts(),
                    )
                },
            )
            .await?;
        match step {
            Step::Wait(due) | Step::Alert(_, due, _) => {
                self.store.reschedule(timer, due).await?;
                Ok(false)
            }
            Step::Close => {
                self.on_ended(&service, &chat, agents).await;
                self.store.complete(timer).await?; // already gone when the end cancelled it
                Ok(true)
            }
            Step::Done => {
                self.store.complete(timer).await?;
                Ok(false)
            }
        }
    }
}

fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// Where `s`'s inactivity control stands at `now`, from its transcript alone.
fn next_step(s: &Session, idle: &InactivitySettings, now: i64) -> Step {
    let agent_in = s
        .record
        .participants
        .iter()
        .any(|p| p.present() && p.party_type == PartyType::Agent);
    if !agent_in {
        return Step::Wait(now.saturating_add(idle.alert_after_ms));
    }
    // Walk back to the latest activity, counting the alerts recorded since.
    let mut alerts = 0;
    let mut last_alert = None;
    let mut start = s.record.created_ms;
    for e in s.events.iter().rev() {
        if e.kind == EventKind::IdleAlert {
            alerts += 1;
            last_alert.get_or_insert(e.utc_time_ms);
        } else if resets(e, idle.include_notices) {
            start = e.utc_time_ms;
            break;
        }
    }
    let alert2 = idle.alert2_after_ms;
    match (alerts, last_alert) {
        (0, _) | (_, None) => {
            let due = start.saturating_add(idle.alert_after_ms);
            let next = match alert2 {
                Some(ms) => Next::after("ALERT", ms),
                None => Next::after("CLOSE", idle.close_after_ms),
            };
            alert_at(due, now, &idle.message_alert, next)
        }
        (1, Some(at)) if alert2.is_some() => {
            let due = at.saturating_add(alert2.unwrap_or_default());
            let next = Next::after("CLOSE", idle.close_after_ms);
            alert_at(due, now, &idle.message_alert2, next)
        }
        (_, Some(at)) => {
            let due = at.saturating_add(idle.close_after_ms);
            if now < due {
                Step::Wait(due)
            } else {
                Step::Close
            }
        }
    }
}

/// An alert of `text` due at `due`, followed by `next` (its delay counted from when the
/// alert is sent).
fn alert_at(due: i64, now: i64, text: &str, next: Next) -> Step {
    if now < due {
        Step::Wait(due)
    } else {
        let at = now.saturating_add(next.ms);
        Step::Alert(text.to_owned(), at, next)
    }
}

/// Whether `e` restarts the clock: the customer's activity (as `notices` counts it) or an
/// agent joining.
fn resets(e: &Event, notices: IdleNotices) -> bool {
    use EventKind as K;
    use IdleNotices as N;
    match e.from.party_type {
        PartyType::Agent => e.kind == K::ParticipantJoined,
        PartyType::Client => match e.kind {
            K::Message | K::ParticipantJoined => true,
            K::CustomNotice => wake(e) || matches!(notices, N::Major2 | N::All),
            K::PushUrl | K::FileUploaded | K::FileDeleted => notices != N::None,
            K::TypingStarted => matches!(notices, N::Typing | N::All),
            K::TypingStopped | K::NicknameUpdated => notices == N::All,
            _ => false,
        },
        _ => false,
    }
}

/// Widgets' "wake": a custom notice asking to cancel the idle timer.
fn wake(e: &Event) -> bool {
    e.event_attributes
        .as_deref()
        .and_then(|a| a.get("purpose"))
        .and_then(|p| p.as_str())
        == Some("cancel-idle-timer")
}
