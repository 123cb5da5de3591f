//! The [`Timers`] rules every store passes: one timer per key (replace or keep), cancel, due
//! timers claimed by exactly one claimer each (racing claimers included), at most `max` per
//! call, a lapsed claim claimable again and its old claimer refused, complete and reschedule
//! only under the current claim, timers of many chats (every partition), and each kind of
//! one chat its own timer, claimed back with its kind. Run by
//! [`crate::run_suite`] on a whole store, or alone by [`run_suite`]. Each check leaves no
//! timer behind.

use chinwag_core::ids::ChatId;
use chinwag_core::lease::Holder;
use chinwag_core::timers::{DueTimer, Schedule, TimerKey, TimerKind, Timers};
use std::collections::BTreeSet;

const T0: i64 = 1_700_000_000_000;
const CLAIM: i64 = 30_000;

fn key(chat: &str) -> TimerKey {
    TimerKey::new(TimerKind::Abandon, ChatId::new(chat))
}

fn holder(s: &str) -> Holder {
    Holder::parse(s).unwrap_or_else(|| panic!("{s} is a holder"))
}

async fn schedule(t: &dyn Timers, timers: &[(TimerKey, i64)], mode: Schedule) {
    t.schedule(timers, mode)
        .await
        .unwrap_or_else(|e| panic!("schedule failed: {e}"));
}

async fn due(t: &dyn Timers, k: &TimerKey) -> Option<i64> {
    t.due(k).await.unwrap_or_else(|e| panic!("due failed: {e}"))
}

async fn claim(t: &dyn Timers, now: i64, who: &str, max: usize) -> Vec<DueTimer> {
    t.claim_due(now, &holder(who), max, CLAIM)
        .await
        .unwrap_or_else(|e| panic!("claim_due failed: {e}"))
}

async fn complete(t: &dyn Timers, d: &DueTimer) -> bool {
    t.complete(d)
        .await
        .unwrap_or_else(|e| panic!("complete failed: {e}"))
}

async fn reschedule(t: &dyn Timers, d: &DueTimer, at: i64) -> bool {
    t.reschedule(d, at)
        .await
        .unwrap_or_else(|e| panic!("reschedule failed: {e}"))
}

/// Runs every timers rule against `t`, which must hold no timer.
pub async fn run_suite(t: &dyn Timers) {
    one_timer_per_key(t).await;
    due_timers_are_claimed_once_and_completed(t).await;
    a_lapsed_claim_is_claimed_again_and_its_claimer_refused(t).await;
    reschedule_moves_a_claimed_timer(t).await;
    replace_and_cancel_drop_a_claim(t).await;
    claims_hand_out_at_most_max_and_everything_once(t).await;
    racing_claimers_each_get_different_timers(t).await;
    kinds_of_one_chat_are_separate_timers(t).await;
    assert!(
        claim(t, i64::MAX / 2, "sweeper", 1000).await.is_empty(),
        "no timer left behind"
    );
}

async fn one_timer_per_key(t: &dyn Timers) {
    let k = key("tm-key");
    assert_eq!(due(t, &k).await, None, "no timer yet");
    schedule(t, &[(k.clone(), T0 + 100)], Schedule::Replace).await;
    assert_eq!(due(t, &k).await, Some(T0 + 100));
    schedule(t, &[(k.clone(), T0 + 50)], Schedule::KeepExisting).await;
    assert_eq!(due(t, &k).await, Some(T0 + 100), "kept: it had a timer");
    schedule(t, &[(k.clone(), T0 + 50)], Schedule::Replace).await;
    assert_eq!(due(t, &k).await, Some(T0 + 50), "replaced");
    let other = key("tm-key-2");
    schedule(t, &[(other.clone(), T0 + 7)], Schedule::KeepExisting).await;
    assert_eq!(
        due(t, &other).await,
        Some(T0 + 7),
        "kept adds a missing one"
    );
    let got = claim(t, T0 + 1_000, "n1-a", 10).await;
    assert_eq!(got.len(), 2, "one timer per key: {got:?}");
    assert!(t.cancel(&[k.clone(), other.clone()]).await.is_ok());
    assert!(t.cancel(&[key("tm-never")]).await.is_ok(), "unknown key");
    assert_eq!(due(t, &k).await, None, "cancelled");
}

async fn due_timers_are_claimed_once_and_completed(t: &dyn Timers) {
    let (early, late) = (key("tm-early"), key("tm-late"));
    schedule(
        t,
        &[(early.clone(), T0 + 10), (late.clone(), T0 + 20)],
        Schedule::Replace,
    )
    .await;
    assert!(claim(t, T0 + 9, "n1-a", 10).await.is_empty(), "not due yet");
    let got = claim(t, T0 + 10, "n1-a", 10).await;
    assert_eq!(got.len(), 1, "only the one due: {got:?}");
    assert_eq!(got[0].key, early);
    assert_eq!(got[0].due_ms, T0 + 10, "its due time");
    assert_eq!(got[0].claim.holder, holder("n1-a"));
    assert_eq!(
        got[0].claim.until_ms,
        T0 + 10 + CLAIM,
        "claimed for claim_ms"
    );
    assert!(
        claim(t, T0 + 15, "n2-b", 10).await.is_empty(),
        "a claimed timer is not handed out again while its claim lasts"
    );
    assert!(complete(t, &got[0]).await, "its claimer completes it");
    assert_eq!(due(t, &early).await, None, "completed: gone");
    assert!(!complete(t, &got[0]).await, "completed once");
    let got = claim(t, T0 + 20, "n2-b", 10).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].key, late);
    assert!(complete(t, &got[0]).await);
}

async fn a_lapsed_claim_is_claimed_again_and_its_claimer_refused(t: &dyn Timers) {
    let k = key("tm-lapse");
    schedule(t, &[(k.clone(), T0)], Schedule::Replace).await;
    let first = claim(t, T0, "n1-dead", 10).await;
    assert_eq!(first.len(), 1);
    assert!(
        claim(t, T0 + CLAIM - 1, "n2-b", 10).await.is_empty(),
        "the claim lasts claim_ms"
    );
    let second = claim(t, T0 + CLAIM, "n2-b", 10).await;
    assert_eq!(second.len(), 1, "claimable again once the claim lapsed");
    assert_eq!(second[0].due_ms, T0, "with its old due time");
    assert!(
        !complete(t, &first[0]).await,
        "the lapsed claimer is refused"
    );
    assert!(
        !reschedule(t, &first[0], T0 + 5).await,
        "the lapsed claimer cannot reschedule"
    );
    assert_eq!(due(t, &k).await, Some(T0), "refusals change nothing");
    assert!(
        complete(t, &second[0]).await,
        "the new claimer completes it"
    );
}

async fn reschedule_moves_a_claimed_timer(t: &dyn Timers) {
    let k = key("tm-again");
    schedule(t, &[(k.clone(), T0)], Schedule::Replace).await;
    let got = claim(t, T0, "n1-a", 10).await;
    assert!(
        reschedule(t, &got[0], T0 + 500).await,
        "its claimer moves it"
    );
    assert_eq!(due(t, &k).await, Some(T0 + 500));
    assert!(!complete(t, &got[0]).await, "the claim ended with the move");
    assert!(
        claim(t, T0 + 499, "n1-a", 10).await.is_empty(),
        "not due before its new time"
    );
    let again = claim(t, T0 + 500, "n2-b", 10).await;
    assert_eq!(again.len(), 1, "due at its new time, for anyone");
    assert_eq!(again[0].due_ms, T0 + 500);
    assert!(complete(t, &again[0]).await);
}

async fn replace_and_cancel_drop_a_claim(t: &dyn Timers) {
    let k = key("tm-replaced");
    schedule(t, &[(k.clone(), T0)], Schedule::Replace).await;
    let got = claim(t, T0, "n1-a", 10).await;
    schedule(t, &[(k.clone(), T0 + 1)], Schedule::KeepExisting).await;
    assert_eq!(
        due(t, &k).await,
        Some(T0),
        "keep leaves a claimed timer alone"
    );
    schedule(t, &[(k.clone(), T0 + 2)], Schedule::Replace).await;
    assert!(!complete(t, &got[0]).await, "replaced: the claim is gone");
    assert_eq!(due(t, &k).await, Some(T0 + 2));
    let got = claim(t, T0 + 2, "n2-b", 10).await;
    assert_eq!(got.len(), 1, "the replacement is due, unclaimed");
    assert!(t.cancel(std::slice::from_ref(&k)).await.is_ok());
    assert!(!complete(t, &got[0]).await, "cancelled under a claim");
    assert!(!reschedule(t, &got[0], T0 + 9).await, "nor brought back");
    assert_eq!(due(t, &k).await, None);
}

async fn claims_hand_out_at_most_max_and_everything_once(t: &dyn Timers) {
    let keys: Vec<TimerKey> = (0..40).map(|i| key(&format!("tm-many-{i}"))).collect();
    let timers: Vec<(TimerKey, i64)> = keys.iter().cloned().zip(T0..).collect();
    schedule(t, &timers, Schedule::Replace).await;
    let mut seen = BTreeSet::new();
    for round in 0..40 {
        let got = claim(t, T0 + 100, "n1-a", 7).await;
        assert!(
            got.len() <= 7,
            "round {round}: {} claimed, max 7",
            got.len()
        );
        if got.is_empty() {
            break;
        }
        for d in got {
            assert!(seen.insert(d.key.clone()), "{:?} handed out twice", d.key);
            assert!(complete(t, &d).await);
        }
    }
    assert_eq!(seen.len(), 40, "every due timer of every chat handed out");
}

async fn racing_claimers_each_get_different_timers(t: &dyn Timers) {
    let keys: Vec<TimerKey> = (0..30).map(|i| key(&format!("tm-race-{i}"))).collect();
    let timers: Vec<(TimerKey, i64)> = keys.iter().map(|k| (k.clone(), T0)).collect();
    schedule(t, &timers, Schedule::Replace).await;
    let racers: Vec<Holder> = (0..6).map(|i| holder(&format!("n{i}-racer"))).collect();
    let claims =
        futures_util::future::join_all(racers.iter().map(|h| t.claim_due(T0, h, 1000, CLAIM)))
            .await;
    let mut seen = BTreeSet::new();
    for got in claims {
        for d in got.unwrap_or_else(|e| panic!("claim_due failed: {e}")) {
            assert!(seen.insert(d.key.clone()), "{:?} claimed twice", d.key);
            assert!(complete(t, &d).await, "each claimer completes its own");
        }
    }
    assert_eq!(seen.len(), 30, "every timer claimed by someone");
}

/// A chat's `abandon` and `idle` timers are two timers, set and cancelled together in one
/// call, each claimed back with its own kind; its `files` timer is a third.
async fn kinds_of_one_chat_are_separate_timers(t: &dyn Timers) {
    let chat = ChatId::new("kinds");
    let [a, i] = [TimerKind::Abandon, TimerKind::Idle].map(|k| TimerKey::new(k, chat.clone()));
    schedule(
        t,
        &[(a.clone(), T0 + 2), (i.clone(), T0 + 1)],
        Schedule::Replace,
    )
    .await;
    assert_eq!(
        (due(t, &a).await, due(t, &i).await),
        (Some(T0 + 2), Some(T0 + 1))
    );
    let got = claim(t, T0 + 1, "kinds-1", 10).await;
    assert_eq!(
        got.iter().map(|d| &d.key).collect::<Vec<_>>(),
        [&i],
        "only the idle one is due"
    );
    t.cancel(&[a.clone(), i.clone()])
        .await
        .unwrap_or_else(|e| panic!("cancel failed: {e}"));
    assert_eq!((due(t, &a).await, due(t, &i).await), (None, None));
    assert!(!complete(t, &got[0]).await, "cancelled with its chat");
    // A `files` timer outlives the chat's other timers and comes back with its kind.
    let f = TimerKey::new(TimerKind::Files, chat.clone());
    schedule(t, &[(f.clone(), T0 + 3)], Schedule::KeepExisting).await;
    let got = claim(t, T0 + 3, "kinds-2", 10).await;
    assert_eq!(
        got.iter().map(|d| &d.key).collect::<Vec<_>>(),
        [&f],
        "the files timer, read back as one"
    );
    assert!(complete(t, &got[0]).await);
}
