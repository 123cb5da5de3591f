//! Two engines sharing one store and one routing state (as two nodes on one Redis): an agent
//! logged in through one is offered the chats created through the other, once; either engine
//! serves its accept and its messages; an offer lapses once however many workers see its
//! deadline, and a node that opens later does not queue or offer again what is routed.

use super::limits_tests::ManualClock;
use super::tests_shared_store::{creds_of, open_chat, send, settings};
use super::*;
use crate::bus::OfferEnd;
use crate::event::EventKind;
use crate::ids::{AgentId, EventIndex, QueueName};
use crate::memstore::{MemoryRoutingStore, MemoryStore};
use crate::ports::RoutingStore;
use crate::settings::{AgentAccount, AgentRole};
use std::sync::atomic::AtomicI64;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use tokio_util::sync::CancellationToken;

const OFFER_MS: i64 = 60_000;

fn with_agent(alias: u32) -> EngineSettings {
    let mut s = settings(alias);
    s.agents = vec![AgentAccount {
        id: AgentId::new("a1"),
        name: "Alice".into(),
        token: "tok".into(),
        queues: vec![QueueName::new("q")],
        capacity: 2,
        role: AgentRole::Agent,
    }];
    s
}

/// One store, one routing state, one clock.
struct Cluster {
    store: Arc<MemoryStore>,
    routing: Arc<MemoryRoutingStore>,
    clock: Arc<ManualClock>,
    cancel: CancellationToken,
}

impl Cluster {
    fn new() -> Self {
        Self {
            store: Arc::new(MemoryStore::new_shared()),
            routing: Arc::new(MemoryRoutingStore::default()),
            clock: Arc::new(ManualClock(AtomicI64::new(1_000_000))),
            cancel: CancellationToken::new(),
        }
    }

    /// A node: its engine, with (when `listening`) the workers that bring other nodes'
    /// routing announcements and commits to its bus.
    async fn node(&self, alias: u32, listening: bool) -> Result<Arc<ChatEngine>, CoreError> {
        let routing: Arc<dyn RoutingStore> = self.routing.clone();
        let e = ChatEngine::open_with(
            with_agent(alias),
            self.store.clone(),
            self.clock.clone(),
            Some(routing),
        )
        .await?;
        if listening {
            let news = RoutingNewsWorker::new(e.clone()).ok_or(CoreError::Unavailable)?;
            tokio::spawn(news.run(self.cancel.clone()));
            let catch_up = CatchUpWorker::new(e.clone(), self.store.as_ref());
            tokio::spawn(catch_up.run(self.cancel.clone()));
        }
        Ok(e)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Bus events on `rx` until (and with) the first that `last` picks, within 5 s. A node's
/// own events are on its bus when its call returns; another node's come through its news
/// worker in the order that node saved them, so a fence must come from the same node as the
/// events it follows.
async fn until(rx: &mut Receiver<BusEvent>, last: impl Fn(&BusEvent) -> bool) -> Vec<BusEvent> {
    let mut seen = Vec::new();
    let wait = async {
        while let Ok(e) = rx.recv().await {
            let done = last(&e);
            seen.push(e);
            if done {
                return true;
            }
        }
        false
    };
    let found = tokio::time::timeout(Duration::from_secs(5), wait).await;
    assert!(
        matches!(found, Ok(true)),
        "the awaited event never came: {seen:?}"
    );
    seen
}

fn offers_of(events: &[BusEvent], chat: &ChatId) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, BusEvent::Offered { chat_id, .. } if chat_id == chat))
        .count()
}

fn not_ready(e: &BusEvent) -> bool {
    matches!(e, BusEvent::AgentState { ready: false, .. })
}

#[tokio::test]
async fn an_agent_on_one_node_is_offered_once_a_chat_created_on_the_other() -> Result<(), CoreError>
{
    let c = Cluster::new();
    let (a, b) = (c.node(1, true).await?, c.node(2, true).await?);
    let (mut on_a, mut on_b) = (a.bus().subscribe(), b.bus().subscribe());
    let agent = a.authenticate("tok")?;
    a.agent_login(&agent).await?;
    a.agent_set_ready(&agent, true).await?;
    let view = open_chat(&b, Selection::Nothing).await?;
    let chat = view.chat_id.clone();

    // Both nodes see the one offer: B made it, A heard it.
    let offered = |e: &BusEvent| matches!(e, BusEvent::Offered { chat_id, .. } if chat_id == &chat);
    until(&mut on_a, offered).await;
    until(&mut on_b, offered).await;
    let status = a.agent_status(&agent).await?;
    assert_eq!(status.offers.len(), 1, "{status:?}");
    assert_eq!(status.offers[0].chat_id, chat);

    // Accepted through B; the customer's message through B reaches the agent on A.
    let joined = b.agent_accept(&agent, &chat).await?;
    assert_eq!(joined.participants.len(), 2);
    b.customer(creds_of(&view), send("hello"), Selection::Nothing)
        .await?;
    let seen = until(&mut on_a, |e| {
        matches!(e, BusEvent::Transcript { event, agents, .. }
            if event.text.as_deref() == Some("hello") && agents.contains(&agent))
    })
    .await;
    assert!(
        seen.iter().any(|e| matches!(e, BusEvent::Transcript { event, .. } if event.kind == EventKind::ParticipantJoined && &*event.from.nickname == "Alice")),
        "A publishes the agent's join: {seen:?}"
    );
    // The agent answers through A (which did not create the chat); B serves it to the customer.
    let sent = a
        .agent_act(
            &agent,
            &chat,
            AgentOp::Send {
                text: "hi Bob".into(),
                message_type: None,
            },
        )
        .await?;
    assert_eq!(sent.len(), 1);
    let on_b_view = b
        .read(creds_of(&view), None, Selection::From(EventIndex(1)))
        .await?;
    let texts: Vec<_> = on_b_view
        .events
        .iter()
        .filter_map(|e| e.text.as_deref())
        .collect();
    assert_eq!(texts, ["hello", "hi Bob"]);

    // A fence through B: everything B announced before it has reached A by then.
    b.agent_set_ready(&agent, false).await?;
    let a_saw = [seen, until(&mut on_a, not_ready).await].concat();
    let b_saw = until(&mut on_b, not_ready).await;
    assert_eq!(
        offers_of(&a_saw, &chat),
        0,
        "A's offer came before the join"
    );
    assert_eq!(offers_of(&b_saw, &chat), 0, "and B's too");
    let status = b.agent_status(&agent).await?;
    assert_eq!((status.chats, status.offers.len()), (vec![chat], 0));
    Ok(())
}

#[tokio::test]
async fn each_offer_is_announced_once_on_every_node() -> Result<(), CoreError> {
    let c = Cluster::new();
    let (a, b) = (c.node(1, true).await?, c.node(2, true).await?);
    let (mut on_a, mut on_b) = (a.bus().subscribe(), b.bus().subscribe());
    let agent = a.authenticate("tok")?;
    let one = open_chat(&a, Selection::Nothing).await?;
    let two = open_chat(&b, Selection::Nothing).await?;
    b.agent_login(&agent).await?;
    a.agent_set_ready(&agent, true).await?; // both chats offered at once, through A
    // The fence, through A too: B hears A's announcements in the order A saved them.
    a.agent_set_ready(&agent, false).await?;
    let (a_saw, b_saw) = (
        until(&mut on_a, not_ready).await,
        until(&mut on_b, not_ready).await,
    );
    for chat in [&one.chat_id, &two.chat_id] {
        assert_eq!(offers_of(&a_saw, chat), 1, "on A: {a_saw:?}");
        assert_eq!(offers_of(&b_saw, chat), 1, "on B: {b_saw:?}");
    }
    Ok(())
}

#[tokio::test]
async fn an_offer_lapses_once_whichever_workers_see_its_deadline() -> Result<(), CoreError> {
    let c = Cluster::new();
    // No news workers: each bus carries only what its own engine saved.
    let (a, b) = (c.node(1, false).await?, c.node(2, false).await?);
    let mut on_a = a.bus().subscribe();
    let agent = a.authenticate("tok")?;
    a.agent_login(&agent).await?;
    a.agent_set_ready(&agent, true).await?;
    let first = open_chat(&b, Selection::Nothing).await?;
    let (wa, wb) = (RoutingWorker::new(a.clone()), RoutingWorker::new(b.clone()));

    // B made the offer; B's worker never runs (B is gone): A's worker withdraws it.
    c.clock.0.fetch_add(OFFER_MS, Ordering::Relaxed);
    wa.pass().await;
    let withdrawn = |e: &BusEvent| matches!(e, BusEvent::OfferWithdrawn { reason: OfferEnd::Timeout, chat_id, .. } if chat_id == &first.chat_id);
    until(&mut on_a, withdrawn).await;
    assert!(a.agent_status(&agent).await?.offers.is_empty());

    // Offered again; both workers see the deadline pass at once: one withdrawal in all.
    a.agent_set_ready(&agent, true).await?;
    assert_eq!(b.agent_status(&agent).await?.offers.len(), 1);
    let version = c.routing.version().await?;
    c.clock.0.fetch_add(OFFER_MS, Ordering::Relaxed);
    let (mut on_a, mut on_b) = (a.bus().subscribe(), b.bus().subscribe());
    tokio::join!(wa.pass(), wb.pass());
    assert_eq!(
        c.routing.version().await?,
        version + 1,
        "one save lapsed it"
    );
    a.agent_set_ready(&agent, true).await?; // a fence on A's bus
    b.agent_set_ready(&agent, false).await?; // and on B's
    let ready = |e: &BusEvent| matches!(e, BusEvent::AgentState { ready: true, .. });
    let (a_saw, b_saw) = (
        until(&mut on_a, ready).await,
        until(&mut on_b, not_ready).await,
    );
    let lapsed = a_saw.iter().chain(&b_saw).filter(|e| withdrawn(e)).count();
    assert_eq!(lapsed, 1, "A: {a_saw:?}\nB: {b_saw:?}");
    Ok(())
}

#[tokio::test]
async fn a_node_opening_later_does_not_route_again_what_is_routed() -> Result<(), CoreError> {
    let c = Cluster::new();
    let a = c.node(1, false).await?;
    let agent = a.authenticate("tok")?;
    let one = open_chat(&a, Selection::Nothing).await?;
    let two = open_chat(&a, Selection::Nothing).await?;
    let waiting = open_chat(&a, Selection::Nothing).await?;
    a.agent_login(&agent).await?;
    a.agent_set_ready(&agent, true).await?; // one and two offered (capacity 2)
    let version = c.routing.version().await?;

    let b = c.node(2, false).await?;
    let mut on_b = b.bus().subscribe();
    assert_eq!(
        c.routing.version().await?,
        version,
        "opening B saved nothing"
    );
    let status = b.agent_status(&agent).await?;
    let offered: Vec<_> = status.offers.iter().map(|o| o.chat_id.clone()).collect();
    assert_eq!(offered, sorted(&[&one.chat_id, &two.chat_id]));
    // Routing through B finds the same queue: the third chat is offered once a place frees.
    b.customer(creds_of(&one), CustomerOp::Disconnect, Selection::Nothing)
        .await?;
    let status = b.agent_status(&agent).await?;
    let offered: Vec<_> = status.offers.iter().map(|o| o.chat_id.clone()).collect();
    assert_eq!(offered, sorted(&[&two.chat_id, &waiting.chat_id]));
    b.agent_set_ready(&agent, false).await?;
    let b_saw = until(&mut on_b, not_ready).await;
    assert_eq!(offers_of(&b_saw, &waiting.chat_id), 1);
    assert_eq!(offers_of(&b_saw, &two.chat_id), 0, "not offered twice");
    Ok(())
}

fn sorted(chats: &[&ChatId]) -> Vec<ChatId> {
    let mut v: Vec<ChatId> = chats.iter().map(|c| (*c).clone()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn nodes_starting_together_on_stored_chats_route_them_once() -> Result<(), CoreError> {
    let c = Cluster::new();
    // Chats stored before any node shared routing (an engine routing alone wrote them).
    let alone = ChatEngine::open(with_agent(9), c.store.clone(), c.clock.clone()).await?;
    let mut stored = Vec::new();
    for _ in 0..3 {
        stored.push(open_chat(&alone, Selection::Nothing).await?.chat_id);
    }
    drop(alone);
    let (a, b) = tokio::join!(c.node(1, true), c.node(2, true));
    let (a, b) = (a?, b?);
    assert_eq!(
        c.routing.version().await?,
        1,
        "one node stored the state, once"
    );
    let mut on_a = a.bus().subscribe();
    let agent = a.authenticate("tok")?;
    b.agent_login(&agent).await?;
    b.agent_set_ready(&agent, true).await?;
    b.agent_set_ready(&agent, false).await?; // the fence, heard after B's offers
    let a_saw = until(&mut on_a, not_ready).await;
    let offered: usize = stored.iter().map(|chat| offers_of(&a_saw, chat)).sum();
    assert_eq!(
        offered, 2,
        "two offers (capacity 2), each chat at most once: {a_saw:?}"
    );
    assert!(stored.iter().all(|chat| offers_of(&a_saw, chat) <= 1));
    Ok(())
}

#[tokio::test]
async fn a_routing_state_the_store_lost_is_rebuilt_from_the_stored_chats() -> Result<(), CoreError>
{
    let c = Cluster::new();
    let a = c.node(1, false).await?;
    let b = c.node(2, false).await?;
    let agent = AgentId::new("a1");
    // Two chats wait, nobody is logged in; several saves move the version on.
    let first = open_chat(&a, Selection::Nothing).await?;
    let second = open_chat(&b, Selection::Nothing).await?;
    a.agent_login(&agent).await?;
    a.agent_logout(&agent).await?;
    // Redis comes back without the key (no append-only file).
    c.routing.lose();
    // The next operation finds the state gone back, rebuilds it from the stored chats (both
    // still waiting) and goes on: the agent is offered them.
    b.agent_login(&agent).await?;
    b.agent_set_ready(&agent, true).await?;
    let status = a.agent_status(&agent).await?;
    let mut offered: Vec<ChatId> = status.offers.iter().map(|o| o.chat_id.clone()).collect();
    offered.sort();
    assert_eq!(offered, sorted(&[&first.chat_id, &second.chat_id]));
    assert!(
        status.ready,
        "the operation that found the loss went through"
    );
    Ok(())
}
