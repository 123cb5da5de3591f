//! The supervisor's overview over the in-memory store: queues with their waiting and offered
//! counts and longest wait, agents with their load, live chats oldest first, and the cap of
//! 200 listed chats with `truncated`.

use super::tests::{Kit, T0, creds, id};
use crate::error::CoreError;
use crate::roles::customers::Selection;
use crate::roles::supervise::{LiveState, MAX_LISTED_CHATS};

type R = Result<(), CoreError>;

#[tokio::test]
async fn the_overview_counts_queues_agents_and_chats_oldest_first() -> R {
    let k = Kit::new().await?;
    let active = k.accepted().await?; // at T0
    k.advance(1000);
    let offered = k.chat("Lee").await?; // a1 has room for one more
    k.advance(1000);
    let first = k.chat("Max").await?;
    k.advance(1000);
    let second = k.chat("Ned").await?;
    k.advance(7000);
    k.agents.login(&id("boss")).await?;
    k.agents.monitor(&id("boss"), &first.chat_id).await?;
    let o = k.agents.supervisor_overview(&id("boss")).await?;
    assert_eq!(o.queues.len(), 1);
    let q = &o.queues[0];
    assert_eq!(
        (q.waiting, q.offered, q.longest_wait_ms),
        (2, 1, Some(8000))
    );
    let ids: Vec<_> = o.agents.iter().map(|a| a.id.clone()).collect();
    assert_eq!(ids, [id("a1"), id("a2"), id("boss")]);
    let a1 = &o.agents[0];
    assert_eq!((a1.chats.len(), a1.offers.len()), (1, 1));
    let rows: Vec<_> = o
        .chats
        .iter()
        .map(|c| (c.chat_id.clone(), c.state, c.since_ms, c.monitored))
        .collect();
    assert_eq!(
        rows,
        [
            (active.chat_id.clone(), LiveState::Active, T0, false),
            (
                offered.chat_id.clone(),
                LiveState::Offered,
                T0 + 1000,
                false
            ),
            (first.chat_id.clone(), LiveState::Waiting, T0 + 2000, true),
            (second.chat_id.clone(), LiveState::Waiting, T0 + 3000, false),
        ]
    );
    let c = &o.chats[0];
    assert_eq!(c.agents, [(id("a1"), "Alice".to_owned())]);
    assert_eq!((c.service.as_str(), c.queue.as_str()), ("svc", "q"));
    assert_eq!(c.customer.as_deref(), Some("Jo"));
    assert_eq!(c.subject.as_deref(), Some("Billing"));
    assert_eq!(o.chats[3].customer.as_deref(), Some("Ned"));
    assert!(!o.truncated);
    Ok(())
}

#[tokio::test]
async fn the_overview_lists_the_200_oldest_chats_and_says_more_exist() -> R {
    let k = Kit::new().await?;
    let mut chats = Vec::new();
    for n in 0..205 {
        chats.push(k.chat(&format!("c{n}")).await?);
        k.advance(1);
    }
    let o = k.agents.supervisor_overview(&id("boss")).await?;
    assert_eq!(o.chats.len(), MAX_LISTED_CHATS);
    assert!(o.truncated);
    assert_eq!(o.queues[0].waiting, 205);
    let listed: Vec<_> = o.chats.iter().map(|c| c.chat_id.clone()).collect();
    let oldest: Vec<_> = chats[..200].iter().map(|c| c.chat_id.clone()).collect();
    assert_eq!(listed, oldest);
    assert_eq!(o.chats[199].customer.as_deref(), Some("c199"));
    // At exactly the cap, nothing is left out.
    for c in &chats[200..] {
        let op = crate::roles::customers::CustomerOp::Disconnect;
        k.customers.act(creds(c), op, Selection::Nothing).await?;
    }
    let o = k.agents.supervisor_overview(&id("boss")).await?;
    assert_eq!((o.chats.len(), o.truncated), (200, false));
    Ok(())
}
