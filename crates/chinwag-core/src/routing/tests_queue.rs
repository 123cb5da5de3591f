//! Router unit tests of queue order and the maximum wait: back and front insertion, removal
//! from anywhere, "waiting or offered", skipping declined chats, overdue chats, deadlines.

use super::tests::{account, chat, offered_to, q, ready, router, router_with};
use super::*;

fn enqueue(r: &mut RouterState, n: u32, since: i64) {
    r.enqueue(&q(), chat(n), ServiceName::new("s"), since);
}

fn ids(chats: &[u32]) -> Vec<ChatId> {
    chats.iter().map(|n| chat(*n)).collect()
}

fn agent(id: &str) -> AgentId {
    AgentId::new(id)
}

#[test]
fn chats_join_at_the_back_and_failed_offers_return_to_the_front() {
    let mut r = router(&[account("a", 3)]);
    for n in 1..=5 {
        enqueue(&mut r, n, 0);
    }
    assert_eq!(r.order(&q()), ids(&[1, 2, 3, 4, 5]));
    ready(&mut r, "a", 0);
    assert_eq!(offered_to(&r.dispatch(1)).len(), 3);
    assert_eq!(r.order(&q()), ids(&[4, 5]));
    r.set_ready(&agent("a"), false);
    // Rejected: to the front. Then a lapsed offer: to the front, ahead of it.
    assert!(r.reject(&agent("a"), &chat(2)).is_some());
    assert_eq!(r.order(&q()), ids(&[2, 4, 5]));
    let offer = r.accept(&agent("a"), &chat(3));
    r.expire(1001);
    assert_eq!(r.order(&q()), ids(&[1, 2, 4, 5]));
    // An accept that could not be committed: to the front, ahead of all.
    r.undo_accept(
        &agent("a"),
        offer.unwrap_or_else(|| panic!("chat3 was offered")),
    );
    assert_eq!(r.order(&q()), ids(&[3, 1, 2, 4, 5]));
    enqueue(&mut r, 6, 0);
    assert_eq!(r.order(&q()), ids(&[3, 1, 2, 4, 5, 6]));
    assert_eq!(r.queue_position(&chat(6)), Some(5));
    assert_eq!(r.queue_position(&chat(3)), Some(0));
}

#[test]
fn a_logout_puts_the_longest_waiting_offer_first() {
    let mut r = router(&[account("a", 2)]);
    enqueue(&mut r, 1, 10);
    enqueue(&mut r, 2, 20);
    enqueue(&mut r, 3, 30);
    ready(&mut r, "a", 0);
    r.dispatch(40);
    r.logout(&agent("a"));
    assert_eq!(r.order(&q()), ids(&[1, 2, 3]));
}

#[test]
fn ended_chats_leave_from_anywhere_and_routing_is_known_per_chat() {
    let mut r = router(&[account("a", 1)]);
    for n in 1..=5 {
        enqueue(&mut r, n, 0);
    }
    r.chat_ended(&chat(3), 1);
    r.chat_ended(&chat(1), 1);
    r.chat_ended(&chat(5), 1);
    assert_eq!(r.order(&q()), ids(&[2, 4]));
    assert_eq!(r.waiting_count(), 2);
    assert_eq!(r.queue_position(&chat(4)), Some(1));
    assert!(!r.is_routing(&chat(3)) && r.queue_position(&chat(3)).is_none());
    ready(&mut r, "a", 0);
    r.dispatch(2);
    assert!(r.is_routing(&chat(2)), "offered");
    assert!(r.queue_position(&chat(2)).is_none(), "offered, not waiting");
    assert!(r.is_routing(&chat(4)), "waiting");
    r.chat_ended(&chat(2), 3);
    assert!(!r.is_routing(&chat(2)));
    assert_eq!(r.order(&q()), ids(&[4]));
}

#[test]
fn enqueueing_a_chat_already_routing_keeps_its_place() {
    let mut r = router(&[account("a", 1)]);
    enqueue(&mut r, 1, 0);
    enqueue(&mut r, 2, 0);
    enqueue(&mut r, 1, 5);
    assert_eq!(r.order(&q()), ids(&[1, 2]));
    ready(&mut r, "a", 0);
    r.dispatch(1);
    enqueue(&mut r, 1, 5);
    assert_eq!(
        r.order(&q()),
        ids(&[2]),
        "an offered chat is not queued twice"
    );
    r.enqueue(&QueueName::new("nope"), chat(9), ServiceName::new("s"), 0);
    assert!(!r.is_routing(&chat(9)));
}

#[test]
fn repeated_rejections_record_each_agent_once() {
    let mut r = router(&[account("a", 1)]);
    ready(&mut r, "a", 0);
    enqueue(&mut r, 1, 0);
    for t in 1..=5 {
        assert_eq!(offered_to(&r.dispatch(t)).len(), 1, "offered again");
        assert!(r.reject(&agent("a"), &chat(1)).is_some());
    }
    r.dispatch(6);
    let declined = r.offer(&chat(1)).map(|o| o.waiting.declined_by.clone());
    assert_eq!(declined, Some(vec![agent("a")]));
}

/// Puts chat `n` at the front as if the agents `by` had declined it.
fn declined(r: &mut RouterState, n: u32, by: &str) {
    r.requeue_front(Waiting {
        chat_id: chat(n),
        service: ServiceName::new("s"),
        queue: q(),
        since_ms: 0,
        declined_by: vec![agent(by)],
    });
}

#[test]
fn declined_chats_are_skipped_without_holding_back_the_others() {
    // More chats than one pass skips were declined by a and wait for b, who is not ready.
    let mut r = router(&[account("a", 1), account("b", 1)]);
    r.login(&agent("b"), 0);
    let many = u32::try_from(MAX_SKIPS_PER_PASS).unwrap_or(u32::MAX) + 10;
    for n in 0..many {
        declined(&mut r, n, "a");
    }
    ready(&mut r, "a", 2);
    assert!(offered_to(&r.dispatch(2)).is_empty(), "all wait for b");
    assert_eq!(r.waiting_count(), usize::try_from(many).unwrap_or(0));
    enqueue(&mut r, 2000, 3);
    assert_eq!(
        offered_to(&r.dispatch(3)),
        vec![("a".into(), "chat2000".into())],
        "a chat nobody declined is offered behind any number of skipped chats"
    );
    // Skipped chats keep their places.
    assert_eq!(r.queue_position(&chat(many - 1)), Some(0));
    assert_eq!(r.queue_position(&chat(0)), Some(r.waiting_count() - 1));
    // b gets ready: it takes the head.
    ready(&mut r, "b", 4);
    assert_eq!(
        offered_to(&r.dispatch(4)),
        vec![("b".into(), chat(many - 1).to_string())]
    );
}

#[test]
fn a_declined_chat_goes_to_an_agent_who_has_not_declined_it() {
    let mut r = router(&[account("a", 1), account("b", 1)]);
    r.login(&agent("b"), 0);
    declined(&mut r, 100, "b");
    for n in 0..3 {
        declined(&mut r, n, "a");
    }
    assert_eq!(r.order(&q()), ids(&[2, 1, 0, 100]));
    ready(&mut r, "a", 2);
    assert_eq!(
        offered_to(&r.dispatch(2)),
        vec![("a".into(), "chat100".into())]
    );
    assert_eq!(r.order(&q()), ids(&[2, 1, 0]));
}

#[test]
fn the_oldest_chat_goes_first_whether_declined_or_not() {
    let mut r = router(&[account("a", 1), account("b", 1)]);
    enqueue(&mut r, 1, 0);
    declined(&mut r, 2, "b");
    enqueue(&mut r, 3, 0);
    ready(&mut r, "a", 0);
    assert_eq!(
        offered_to(&r.dispatch(1)),
        vec![("a".into(), "chat2".into())]
    );
    assert_eq!(r.order(&q()), ids(&[1, 3]));
}

#[test]
fn chats_are_overdue_exactly_at_their_maximum_wait() {
    let mut r = router_with(Some(100), &[account("a", 1)]);
    assert_eq!(r.next_deadline(), None);
    enqueue(&mut r, 1, 0);
    enqueue(&mut r, 2, 50);
    enqueue(&mut r, 3, 100);
    assert_eq!(r.next_deadline(), Some(100));
    assert!(r.overdue(99).is_empty());
    let gone: Vec<ChatId> = r.overdue(100).into_iter().map(|w| w.chat_id).collect();
    assert_eq!(gone, ids(&[1]));
    assert!(!r.is_routing(&chat(1)));
    assert_eq!(r.next_deadline(), Some(150));
    assert!(r.overdue(149).is_empty());
    let gone: Vec<ChatId> = r.overdue(1000).into_iter().map(|w| w.chat_id).collect();
    assert_eq!(gone, ids(&[2, 3]));
    assert_eq!((r.waiting_count(), r.next_deadline()), (0, None));
}

#[test]
fn offered_chats_are_not_overdue_and_requeued_ones_keep_their_wait() {
    let mut r = router_with(Some(100), &[account("a", 1)]);
    enqueue(&mut r, 1, 0);
    enqueue(&mut r, 2, 60);
    ready(&mut r, "a", 0);
    assert_eq!(offered_to(&r.dispatch(10)).len(), 1);
    assert_eq!(
        r.next_deadline(),
        Some(160),
        "chat2's wait; chat1 is offered"
    );
    assert!(r.overdue(150).is_empty(), "chat1 is offered, not overdue");
    assert_eq!(r.next_deadline(), Some(160));
    // Rejected: back at the head, still waiting since 0, so overdue at once.
    assert!(r.reject(&agent("a"), &chat(1)).is_some());
    assert_eq!(r.order(&q()), ids(&[1, 2]));
    assert_eq!(r.next_deadline(), Some(100));
    let gone = r.overdue(150);
    assert_eq!(gone.len(), 1);
    assert_eq!((gone[0].chat_id.clone(), gone[0].since_ms), (chat(1), 0));
    assert_eq!(gone[0].declined_by, vec![agent("a")]);
    assert_eq!(r.order(&q()), ids(&[2]));
}

#[test]
fn a_lapsed_offer_keeps_its_wait_and_the_earliest_deadline_wins() {
    let mut r = router_with(Some(5000), &[account("a", 1)]);
    enqueue(&mut r, 1, 0);
    enqueue(&mut r, 2, 900);
    ready(&mut r, "a", 0);
    r.dispatch(10);
    assert_eq!(
        r.next_deadline(),
        Some(1010),
        "the offer lapses before chat2's wait"
    );
    r.expire(1010);
    assert_eq!(r.next_deadline(), Some(5000), "chat1 waits since 0 again");
    let gone: Vec<ChatId> = r.overdue(5900).into_iter().map(|w| w.chat_id).collect();
    assert_eq!(gone, ids(&[1, 2]));
}

#[test]
fn without_a_maximum_wait_nothing_is_overdue() {
    let mut r = router(&[account("a", 1)]);
    enqueue(&mut r, 1, 0);
    assert_eq!(r.next_deadline(), None);
    assert!(r.overdue(i64::MAX).is_empty());
    assert!(r.is_routing(&chat(1)));
}
