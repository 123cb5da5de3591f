//! The shared snapshot: a state restored from its bytes is the same state (queue order and
//! keys, waiting times, who declined what, agents' presence and load, offers and deadlines),
//! behaves the same afterwards, and encodes to the same bytes.

use super::tests::{account, chat, q, ready, router_with};
use super::*;

fn busy_state() -> RouterState {
    let agents = [account("a", 1), account("b", 2), account("idle", 1)];
    let mut r = router_with(Some(60_000), &agents);
    for n in 1..=6 {
        r.enqueue(&q(), chat(n), ServiceName::new("s"), i64::from(n) * 10);
    }
    ready(&mut r, "a", 100);
    r.dispatch(200); // chat1 offered to a
    r.reject(&AgentId::new("a"), &chat(1)); // back at the head, declined by a
    r.dispatch(210); // chat2 offered to a (a declined chat1)
    r.restore_assignment(&AgentId::new("b"), chat(99));
    r.login(&AgentId::new("b"), 300);
    r
}

#[test]
fn a_restored_state_is_the_same_state() {
    let r = busy_state();
    let bytes = r.snapshot();
    let agents = [account("a", 1), account("b", 2), account("idle", 1)];
    let settings = [QueueSettings {
        name: q(),
        offer_timeout_ms: 1000,
        max_wait_ms: Some(60_000),
    }];
    let back = RouterState::restore(&settings, &agents, &bytes).unwrap_or_default();
    assert_eq!(back.snapshot(), bytes, "same bytes again");
    assert_eq!(back.order(&q()), r.order(&q()), "queue order");
    assert_eq!(
        back.order(&q())[0],
        chat(1),
        "the declined chat heads the queue"
    );
    assert_eq!(back.waiting_count(), 5);
    assert_eq!(back.next_deadline(), r.next_deadline(), "deadlines");
    let offer = back
        .offer(&chat(2))
        .map(|o| (o.agent_id.clone(), o.expires_ms));
    assert_eq!(
        offer,
        Some((AgentId::new("a"), 1210)),
        "the offer and its deadline"
    );
    let a = back.agent(&AgentId::new("a"));
    assert!(a.is_some_and(|a| a.logged_in && a.ready && a.offers.contains(&chat(2))));
    assert!(a.is_some_and(|a| a.last_offer_ms == 210));
    let b = back.agent(&AgentId::new("b"));
    assert!(b.is_some_and(|b| b.logged_in && !b.ready && b.chats.contains(&chat(99))));
    assert_eq!(back.queue_position(&chat(3)), Some(1));

    // Both behave alike from here: same events, same state.
    let (mut x, mut y) = (r, back);
    for s in [&mut x, &mut y] {
        s.set_ready(&AgentId::new("b"), true);
    }
    let (ex, ey) = (x.dispatch(400), y.dispatch(400));
    assert_eq!(format!("{ex:?}"), format!("{ey:?}"), "same offers");
    let (ex, ey) = (x.expire(1300), y.expire(1300));
    assert_eq!(format!("{ex:?}"), format!("{ey:?}"), "same expiries");
    assert_eq!(x.snapshot(), y.snapshot());
    // chat1 was declined by a: it keeps that across the round trip.
    let declined = y.offer(&chat(1)).map(|o| o.waiting.declined_by.clone());
    assert!(
        declined.as_ref().is_none_or(|d| d == &[AgentId::new("a")]),
        "declined_by kept: {declined:?}"
    );
}

#[test]
fn an_empty_state_is_small_and_equal_states_encode_alike() {
    let agents = [account("a", 1)];
    let r = router_with(None, &agents);
    assert_eq!(r.snapshot(), br#"{"v":1}"#);
    // Encoding does not depend on the order things happened in (maps are written sorted).
    let mut x = router_with(None, &[account("a", 1), account("b", 1)]);
    let mut y = router_with(None, &[account("b", 1), account("a", 1)]);
    x.restore_assignment(&AgentId::new("a"), chat(1));
    x.restore_assignment(&AgentId::new("a"), chat(2));
    y.restore_assignment(&AgentId::new("a"), chat(2));
    y.restore_assignment(&AgentId::new("a"), chat(1));
    assert_eq!(x.snapshot(), y.snapshot());
}

#[test]
fn unknown_queues_and_agents_are_left_out_and_other_formats_refused() {
    let r = busy_state();
    let bytes = r.snapshot();
    let none: [QueueSettings; 0] = [];
    let back = RouterState::restore(&none, &[account("a", 1)], &bytes).unwrap_or_default();
    assert_eq!(back.waiting_count(), 0, "no queue configured here");
    assert!(back.agent(&AgentId::new("b")).is_none());
    assert!(
        back.offer(&chat(2)).is_some(),
        "offers are kept (their deadline matters)"
    );
    let refused = RouterState::restore(&none, &[], br#"{"v":2}"#);
    assert!(refused.is_err_and(|e| e.contains("format 2")));
    assert!(RouterState::restore(&none, &[], b"not json").is_err());
}

#[test]
fn a_waiting_chat_costs_under_90_bytes_of_snapshot() {
    // What docs/cluster.md quotes: the whole snapshot is written by every shared save.
    let agents: Vec<AgentAccount> = (0..100)
        .map(|i| account(&format!("agent{i:03}"), 3))
        .collect();
    let mut r = router_with(Some(600_000), &agents);
    for i in 0..1000 {
        let chat = ChatId::new(format!("{i:016}"));
        r.enqueue(
            &q(),
            chat,
            ServiceName::new("customer-support"),
            1_700_000_000_000 + i,
        );
    }
    let waiting = r.snapshot().len();
    assert!(
        waiting < 90 * 1000,
        "{waiting} bytes for 1000 waiting chats"
    );
    for i in 0..100 {
        ready(&mut r, &format!("agent{i:03}"), 1_700_000_000_000);
    }
    r.dispatch(1_700_000_100_000); // 300 offers
    let busy = r.snapshot().len();
    assert!(
        busy < waiting + 300 * 160 + 100 * 90,
        "{busy} bytes with 100 agents and 300 offers"
    );
}
