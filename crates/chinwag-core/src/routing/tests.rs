//! Router unit tests: pure state, no clock or I/O. Offers, acceptance and agent choice;
//! also the helpers the other router test modules share.

use super::*;
use crate::settings::AgentRole;

pub(super) fn q() -> QueueName {
    QueueName::new("default")
}

pub(super) fn account(id: &str, capacity: u32) -> AgentAccount {
    AgentAccount {
        id: AgentId::new(id),
        name: id.to_owned(),
        token: format!("{id}-token"),
        queues: vec![q()],
        capacity,
        role: AgentRole::Agent,
    }
}

pub(super) fn router(agents: &[AgentAccount]) -> RouterState {
    router_with(None, agents)
}

/// A router over the queue [`q`] (offer timeout 1000 ms) with this maximum wait.
pub(super) fn router_with(max_wait_ms: Option<i64>, agents: &[AgentAccount]) -> RouterState {
    RouterState::new(
        &[QueueSettings {
            name: q(),
            offer_timeout_ms: 1000,
            max_wait_ms,
        }],
        agents,
    )
}

pub(super) fn ready(r: &mut RouterState, id: &str, now: i64) {
    r.login(&AgentId::new(id), now);
    r.set_ready(&AgentId::new(id), true);
}

pub(super) fn chat(n: u32) -> ChatId {
    ChatId::new(format!("chat{n}"))
}

pub(super) fn offered_to(events: &[BusEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            BusEvent::Offered {
                agent_id, chat_id, ..
            } => Some((agent_id.to_string(), chat_id.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn offers_go_to_the_longest_idle_ready_agent() {
    let mut r = router(&[account("a", 1), account("b", 1)]);
    ready(&mut r, "a", 100);
    ready(&mut r, "b", 50);
    r.enqueue(&q(), chat(1), ServiceName::new("s"), 0);
    assert_eq!(
        offered_to(&r.dispatch(200)),
        vec![("b".into(), "chat1".into())]
    );
    r.enqueue(&q(), chat(2), ServiceName::new("s"), 0);
    assert_eq!(
        offered_to(&r.dispatch(201)),
        vec![("a".into(), "chat2".into())]
    );
}

#[test]
fn not_ready_agents_and_full_agents_get_nothing() {
    let mut r = router(&[account("a", 1)]);
    r.login(&AgentId::new("a"), 0);
    r.enqueue(&q(), chat(1), ServiceName::new("s"), 0);
    assert!(offered_to(&r.dispatch(1)).is_empty());
    r.set_ready(&AgentId::new("a"), true);
    assert_eq!(offered_to(&r.dispatch(2)).len(), 1);
    r.enqueue(&q(), chat(2), ServiceName::new("s"), 0);
    assert!(
        offered_to(&r.dispatch(3)).is_empty(),
        "capacity 1 is taken by the pending offer"
    );
    assert!(r.accept(&AgentId::new("a"), &chat(1)).is_some());
    assert!(
        offered_to(&r.dispatch(4)).is_empty(),
        "capacity 1 is taken by the accepted chat"
    );
    r.chat_ended(&chat(1), 5);
    assert_eq!(
        offered_to(&r.dispatch(6)),
        vec![("a".into(), "chat2".into())]
    );
}

#[test]
fn a_lapsed_offer_returns_to_the_head_and_the_agent_is_made_not_ready() {
    let mut r = router(&[account("a", 2), account("b", 2)]);
    ready(&mut r, "a", 0);
    r.enqueue(&q(), chat(1), ServiceName::new("s"), 0);
    r.enqueue(&q(), chat(2), ServiceName::new("s"), 0);
    let offers = offered_to(&r.dispatch(10));
    assert_eq!(offers.len(), 2);
    assert_eq!(r.next_deadline(), Some(1010));
    assert!(r.accept(&AgentId::new("a"), &chat(2)).is_some());
    let events = r.expire(1010);
    assert!(events.iter().any(|e| matches!(
        e,
        BusEvent::OfferWithdrawn {
            reason: OfferEnd::Timeout,
            ..
        }
    )));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, BusEvent::AgentState { ready: false, .. }))
    );
    assert_eq!(r.queue_position(&chat(1)), Some(0));
    ready(&mut r, "b", 1011);
    assert_eq!(
        offered_to(&r.dispatch(1012)),
        vec![("b".into(), "chat1".into())]
    );
}

#[test]
fn a_rejected_offer_goes_to_another_agent_first() {
    let mut r = router(&[account("a", 1), account("b", 1)]);
    ready(&mut r, "a", 0);
    ready(&mut r, "b", 5);
    r.enqueue(&q(), chat(1), ServiceName::new("s"), 0);
    assert_eq!(
        offered_to(&r.dispatch(10)),
        vec![("a".into(), "chat1".into())]
    );
    assert!(r.reject(&AgentId::new("a"), &chat(1)).is_some());
    assert_eq!(
        offered_to(&r.dispatch(11)),
        vec![("b".into(), "chat1".into())]
    );
    assert!(r.reject(&AgentId::new("b"), &chat(1)).is_some());
    // Everyone declined: it is offered again rather than stranded.
    assert_eq!(offered_to(&r.dispatch(12)).len(), 1);
}

#[test]
fn only_the_offered_agent_can_accept() {
    let mut r = router(&[account("a", 1), account("b", 1)]);
    ready(&mut r, "a", 0);
    r.enqueue(&q(), chat(1), ServiceName::new("s"), 0);
    r.dispatch(1);
    assert!(r.accept(&AgentId::new("b"), &chat(1)).is_none());
    assert!(r.reject(&AgentId::new("b"), &chat(1)).is_none());
    assert!(r.accept(&AgentId::new("a"), &chat(1)).is_some());
    assert!(
        r.accept(&AgentId::new("a"), &chat(1)).is_none(),
        "an offer is accepted once"
    );
}

#[test]
fn logout_withdraws_offers() {
    let mut r = router(&[account("a", 1)]);
    ready(&mut r, "a", 0);
    r.enqueue(&q(), chat(1), ServiceName::new("s"), 0);
    r.dispatch(1);
    let events = r.logout(&AgentId::new("a"));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, BusEvent::OfferWithdrawn { .. }))
    );
    assert_eq!(r.queue_position(&chat(1)), Some(0));
    assert!(!r.agent(&AgentId::new("a")).is_some_and(|a| a.logged_in));
}
