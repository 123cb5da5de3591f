//! Transfer routing and not-ready reasons: a chat put at the back of another queue goes to
//! an agent serving that queue; a direct offer reaches one agent ready or not, and a
//! rejected or missed one sends the chat to the head of its service's queue; reasons are
//! kept, dropped when ready, set to "Missed offer" by a lapsed offer, and survive the shared
//! snapshot (which still loads without them).

use super::tests::{account, chat, offered_to, q, ready, router_with};
use super::*;
use crate::settings::AgentRole;

fn other() -> QueueName {
    QueueName::new("other")
}

/// Queues `default` and `other`; `a` and `b` serve `default`, `c` serves `other`.
fn two_queues() -> RouterState {
    let queue = |name: QueueName| QueueSettings {
        name,
        offer_timeout_ms: 1000,
        max_wait_ms: None,
    };
    let c = AgentAccount {
        queues: vec![other()],
        role: AgentRole::Agent,
        ..account("c", 2)
    };
    RouterState::new(
        &[queue(q()), queue(other())],
        &[account("a", 2), account("b", 1), c],
    )
}

fn waiting(n: u32) -> Waiting {
    Waiting {
        chat_id: chat(n),
        service: ServiceName::new("s"),
        queue: q(),
        since_ms: 0,
        declined_by: Vec::new(),
    }
}

fn id(s: &str) -> AgentId {
    AgentId::new(s)
}

#[test]
fn a_chat_transferred_to_a_queue_waits_at_its_back_for_an_agent_serving_it() {
    let mut r = two_queues();
    r.login(&id("c"), 0);
    r.enqueue(&other(), chat(1), ServiceName::new("s"), 0);
    // The transferred chat (from a `default` chat) goes behind chat1.
    r.enqueue(&other(), chat(2), ServiceName::new("s"), 10);
    assert_eq!(r.order(&other()), vec![chat(1), chat(2)]);
    assert!(r.dispatch(20).is_empty(), "c is not ready yet");
    r.set_ready(&id("c"), true);
    let offers = offered_to(&r.dispatch(30));
    assert_eq!(
        offers,
        vec![("c".into(), "chat1".into()), ("c".into(), "chat2".into())],
        "only c serves `other`, and takes both in order"
    );
}

#[test]
fn a_direct_offer_reaches_a_not_ready_agent_and_a_rejection_heads_the_service_queue() {
    let mut r = two_queues();
    ready(&mut r, "a", 0);
    r.login(&id("b"), 0);
    r.enqueue(&q(), chat(7), ServiceName::new("s"), 0);
    r.set_ready(&id("a"), false); // nobody takes chat7 yet
    let events = r.offer_directly(&id("b"), waiting(1), 500, 100);
    let events = events.unwrap_or_default();
    assert_eq!(offered_to(&events), vec![("b".into(), "chat1".into())]);
    assert!(matches!(
        events.first(),
        Some(BusEvent::Offered {
            expires_ms: 600,
            ..
        })
    ));
    assert!(
        r.agent(&id("b"))
            .is_some_and(|b| b.offers.contains(&chat(1)))
    );
    // b is full now (capacity 1): a second direct offer is refused, nothing changes.
    let before = r.snapshot();
    assert_eq!(
        r.offer_directly(&id("b"), waiting(2), 500, 100).err(),
        Some(DirectRefusal::Unavailable)
    );
    assert_eq!(r.snapshot(), before);
    r.reject(&id("b"), &chat(1));
    assert_eq!(r.order(&q()), vec![chat(1), chat(7)], "back at the head");
}

#[test]
fn a_missed_direct_offer_heads_the_queue_and_says_why_the_agent_is_not_ready() {
    let mut r = two_queues();
    ready(&mut r, "b", 0);
    r.enqueue(&q(), chat(7), ServiceName::new("s"), 0);
    r.offer_directly(&id("a"), waiting(1), 500, 100).ok();
    assert_eq!(
        r.offer_directly(&id("a"), waiting(3), 500, 100).err(),
        Some(DirectRefusal::Unavailable),
        "a is logged out"
    );
    r.login(&id("a"), 0);
    assert!(r.offer_directly(&id("a"), waiting(1), 500, 100).is_ok());
    assert_eq!(
        r.offer_directly(&id("a"), waiting(1), 500, 100).err(),
        Some(DirectRefusal::AlreadyRouted)
    );
    assert_eq!(r.can_offer_to(&id("zed")), Err(DirectRefusal::NoSuchAgent));
    let events = r.expire(600);
    assert!(events.iter().any(|e| matches!(
        e,
        BusEvent::AgentState { ready: false, reason: Some(w), .. } if w == MISSED_OFFER
    )));
    let a = r.agent(&id("a"));
    assert_eq!(
        a.and_then(|a| a.reason.clone()).as_deref(),
        Some(MISSED_OFFER)
    );
    assert_eq!(r.order(&q()), vec![chat(1), chat(7)], "at the head");
}

#[test]
fn reasons_are_kept_changed_and_dropped_when_ready() {
    let mut r = two_queues();
    r.login(&id("a"), 0);
    let e = r.set_state(&id("a"), false, Some("Lunch"));
    assert!(matches!(
        e.as_slice(),
        [BusEvent::AgentState { ready: false, reason: Some(w), .. }] if w == "Lunch"
    ));
    assert!(
        r.set_state(&id("a"), false, Some("Lunch")).is_empty(),
        "no change"
    );
    let e = r.set_state(&id("a"), false, Some("Break"));
    assert_eq!(e.len(), 1, "a new reason is news");
    r.set_state(&id("a"), true, Some("ignored"));
    assert!(
        r.agent(&id("a"))
            .is_some_and(|a| a.ready && a.reason.is_none())
    );
    r.set_state(&id("a"), false, Some("Meeting"));
    r.logout(&id("a"));
    assert!(r.agent(&id("a")).is_some_and(|a| a.reason.is_none()));
}

#[test]
fn a_reason_survives_the_snapshot_and_an_old_snapshot_loads_without_one() {
    let mut r = router_with(None, &[account("a", 1), account("b", 1)]);
    r.login(&id("a"), 5);
    r.set_state(&id("a"), false, Some("Lunch"));
    let bytes = r.snapshot();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert!(text.contains(r#""n":"Lunch""#), "{text}");
    let settings = [QueueSettings {
        name: q(),
        offer_timeout_ms: 1000,
        max_wait_ms: None,
    }];
    let accounts = [account("a", 1), account("b", 1)];
    let back = RouterState::restore(&settings, &accounts, &bytes).unwrap_or_default();
    let a = back.agent(&id("a"));
    assert_eq!(a.and_then(|a| a.reason.as_deref()), Some("Lunch"));
    assert_eq!(back.snapshot(), bytes);
    // Written before reasons existed: a logged-in, not-ready agent with no `n`.
    let old = br#"{"v":1,"a":[{"i":"a","l":true,"d":5},{"i":"b","l":true,"r":true}]}"#;
    let back = RouterState::restore(&settings, &accounts, old);
    let back = back.unwrap_or_default();
    assert!(
        back.agent(&id("a"))
            .is_some_and(|a| a.logged_in && a.reason.is_none())
    );
    assert!(back.agent(&id("b")).is_some_and(|b| b.ready));
}
