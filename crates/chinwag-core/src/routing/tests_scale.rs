//! Router scale tests: a long queue under churn. They assert behaviour (counts, order), never
//! time; they finish quickly only because every per-chat operation is O(log n).

use super::tests::{account, offered_to, q, ready, router_with};
use super::*;

const WAITING: u32 = 100_000;
const ROUNDS: u32 = 10_000;

fn chat(n: u32) -> ChatId {
    ChatId::new(format!("c{n}"))
}

fn filled(max_wait_ms: Option<i64>) -> RouterState {
    let mut r = router_with(max_wait_ms, &[account("a", 1)]);
    for n in 0..WAITING {
        r.enqueue(&q(), chat(n), ServiceName::new("s"), i64::from(n));
    }
    assert_eq!(r.waiting_count(), 100_000);
    r
}

#[test]
fn a_long_queue_with_no_agent_takes_churn() {
    let mut r = filled(Some(200_000));
    // The agent is logged in but not ready: nobody can take a chat.
    r.login(&AgentId::new("a"), 0);
    for round in 0..ROUNDS {
        let now = i64::from(WAITING + round);
        r.enqueue(&q(), chat(WAITING + round), ServiceName::new("s"), now);
        assert!(r.dispatch(now).is_empty());
        // End every other one of the oldest chats: removals from inside the queue.
        let ended = chat(2 * round);
        assert!(r.is_routing(&ended));
        r.chat_ended(&ended, now);
        assert!(!r.is_routing(&ended));
    }
    assert_eq!(r.waiting_count(), 100_000);
    assert_eq!(r.queue_position(&chat(1)), Some(0));
    assert_eq!(r.queue_position(&chat(WAITING + ROUNDS - 1)), Some(99_999));
    // Overdue at 250_000: since <= 50_000, less the 10_000 ended (all even, below 20_000).
    assert_eq!(r.next_deadline(), Some(200_001));
    let gone = r.overdue(250_000);
    assert_eq!(gone.len(), 40_001);
    assert!(gone.windows(2).all(|w| w[0].since_ms < w[1].since_ms));
    assert_eq!(gone.last().map(|w| w.since_ms), Some(50_000));
    assert_eq!(r.waiting_count(), 100_000 - 40_001);
    assert_eq!(r.next_deadline(), Some(250_001));
    // Once the agent is ready, the head is offered.
    ready(&mut r, "a", 300_000);
    assert_eq!(
        offered_to(&r.dispatch(300_000)),
        vec![("a".into(), chat(50_001).to_string())]
    );
}

#[test]
fn a_long_queue_is_served_in_order_under_churn() {
    let mut r = filled(None);
    ready(&mut r, "a", 0);
    let agent = AgentId::new("a");
    for round in 0..ROUNDS {
        let now = i64::from(WAITING + round);
        r.enqueue(&q(), chat(WAITING + round), ServiceName::new("s"), now);
        // The agent takes the head, accepts it, and the chat ends.
        let offers = offered_to(&r.dispatch(now));
        assert_eq!(offers, vec![("a".into(), chat(round).to_string())]);
        assert!(r.accept(&agent, &chat(round)).is_some());
        assert!(r.dispatch(now).is_empty(), "capacity 1 is taken");
        r.chat_ended(&chat(round), now);
    }
    assert_eq!(r.waiting_count(), 100_000);
    assert_eq!(r.queue_position(&chat(ROUNDS)), Some(0));
}
