//! What inactivity control puts on the wire, with a manual clock: each `IdleAlert` announces
//! the next step and when in its `userData` (Widgets count down from it), and of the events a
//! close records only the last one tells the bus the chat ended (so a CometD watcher gets the
//! customer's `ParticipantLeft` too).

use super::tests_inactivity::{ALERT, ALERT2, CLOSE, Rig, idle_settings, staffed_chat};
use super::tests_shared_store::creds_of;
use super::*;
use crate::event::EventKind;
use crate::ids::EventIndex;

/// The `userData` of each `IdleAlert` of `view`'s transcript, as (type, secs).
async fn announced(e: &ChatEngine, view: &ChatView) -> Result<Vec<(String, String)>, CoreError> {
    let all = e
        .read(creds_of(view), None, Selection::From(EventIndex(1)))
        .await?;
    let of = |d: &crate::event::UserData, k: &str| d.get(k).cloned().unwrap_or_default();
    Ok(all
        .events
        .iter()
        .filter(|e| e.kind == EventKind::IdleAlert)
        .map(|e| {
            let d = e.user_data.as_deref().cloned().unwrap_or_default();
            (
                of(&d, "next-idle-timer-type"),
                of(&d, "next-idle-timer-secs"),
            )
        })
        .collect())
}

#[tokio::test]
async fn each_alert_announces_the_next_step_and_when() -> Result<(), CoreError> {
    let pair = |t: &str, s: i64| (t.to_owned(), (s / 1000).to_string());
    let rig = Rig::new();
    let e = rig.node(1, true).await?;
    let (chat, _) = staffed_chat(&e).await?;
    for step in [ALERT, ALERT2] {
        rig.advance(step);
        e.end_abandoned().await;
    }
    let want = vec![pair("ALERT", ALERT2), pair("CLOSE", CLOSE)];
    assert_eq!(announced(&e, &chat).await?, want);
    // Without a second alert, the first announces the close.
    let mut s = idle_settings(2, true);
    s.services[0].inactivity.alert2_after_ms = None;
    let rig = Rig::new();
    let e = ChatEngine::open(s, rig.store.clone(), rig.clock.clone()).await?;
    let (chat, _) = staffed_chat(&e).await?;
    rig.advance(ALERT);
    e.end_abandoned().await;
    assert_eq!(announced(&e, &chat).await?, vec![pair("CLOSE", CLOSE)]);
    Ok(())
}

#[tokio::test]
async fn only_the_last_event_of_a_close_says_the_chat_ended() -> Result<(), CoreError> {
    let rig = Rig::new();
    let e = rig.node(1, true).await?;
    let (_chat, _) = staffed_chat(&e).await?;
    let mut rx = e.bus().subscribe();
    for step in [ALERT, ALERT2, CLOSE] {
        rig.advance(step);
        e.end_abandoned().await;
    }
    let mut seen = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let BusEvent::Transcript { event, ended, .. } = ev {
            seen.push((event.kind, ended));
        }
    }
    let k = |kind| (kind, false);
    assert_eq!(
        seen,
        [
            k(EventKind::IdleAlert),
            k(EventKind::IdleAlert),
            k(EventKind::IdleClose),
            (EventKind::ParticipantLeft, true),
        ]
    );
    Ok(())
}
