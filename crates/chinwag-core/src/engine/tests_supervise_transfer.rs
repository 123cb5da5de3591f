//! Transfer and take-over where they meet monitors and each other: only the chat's one
//! `Agent` may transfer it (a monitor may not, nor may anyone while another agent is in the
//! chat), a target already in the chat is refused, an account never joins a chat twice as
//! `Agent`, a take-over frees every agent routing still gives the chat, and the answers of
//! monitor and take-over carry the chat's queue.

use super::join_as_agent;
use super::tests::{Kit, id};
use crate::error::CoreError;
use crate::event::PartyType;
use crate::ids::QueueName;
use crate::roles::desk::TransferTarget;

type R = Result<(), CoreError>;

fn to_agent(a: &str) -> TransferTarget {
    TransferTarget::Agent(id(a))
}

#[tokio::test]
async fn a_monitor_may_not_transfer_and_nothing_changes() -> R {
    let k = Kit::new().await?;
    let v = k.accepted().await?;
    k.agents.login(&id("a2")).await?;
    k.agents.login(&id("boss")).await?;
    k.agents.monitor(&id("boss"), &v.chat_id).await?;
    let before = k.customer_view(&v).await?.events.len();
    let refused = k
        .agents
        .transfer(&id("boss"), &v.chat_id, to_agent("a2"))
        .await;
    assert!(
        matches!(refused, Err(CoreError::NotInChat | CoreError::Monitoring)),
        "{refused:?}"
    );
    assert_eq!(k.customer_view(&v).await?.events.len(), before);
    let (offers, a1_has) = k
        .routing(|r| {
            (
                r.agent(&id("a2")).map_or(0, |a| a.offers.len()),
                r.agent(&id("a1"))
                    .is_some_and(|a| a.chats.contains(&v.chat_id)),
            )
        })
        .await?;
    assert_eq!(offers, 0, "no offer made");
    assert!(a1_has, "the agent still has the chat");
    let view = k
        .agents
        .chat(&id("boss"), &v.chat_id, crate::ids::EventIndex(1))
        .await?;
    let monitoring = view
        .participants
        .iter()
        .any(|p| p.present() && p.party_type == PartyType::Supervisor);
    assert!(monitoring, "the monitor did not leave");
    Ok(())
}

#[tokio::test]
async fn a_transfer_is_refused_while_another_agent_is_in_the_chat_or_by_one_not_in_it() -> R {
    let k = Kit::new().await?;
    let v = k.accepted().await?;
    k.agents.login(&id("a2")).await?;
    k.agents.login(&id("boss")).await?;
    // a2 in the chat too (as after a race of accepts): a1 may leave, not transfer.
    let slot = k
        .engine
        .slot_anywhere(&v.chat_id)
        .await?
        .ok_or(CoreError::ChatNotFound)?;
    k.engine
        .write(&slot, |s| Ok(join_as_agent(s, "Ann", &id("a2"), 1)), |_| ())
        .await?;
    let before = k.customer_view(&v).await?.events.len();
    for target in [to_agent("boss"), TransferTarget::Queue(QueueName::new("q"))] {
        let refused = k.agents.transfer(&id("a1"), &v.chat_id, target).await;
        assert!(
            matches!(refused, Err(CoreError::InvalidArgument(_))),
            "{refused:?}"
        );
    }
    assert_eq!(
        k.customer_view(&v).await?.events.len(),
        before,
        "nobody left"
    );
    // Taken over: a1 is in the chat no more and may not transfer it.
    k.agents.take_over(&id("boss"), &v.chat_id).await?;
    let gone = k
        .agents
        .transfer(&id("a1"), &v.chat_id, to_agent("a2"))
        .await;
    assert!(matches!(gone, Err(CoreError::NotInChat)), "{gone:?}");
    Ok(())
}

#[tokio::test]
async fn an_agent_in_the_chat_does_not_join_it_twice() -> R {
    let k = Kit::new().await?;
    let v = k.accepted().await?;
    let slot = k
        .engine
        .slot_anywhere(&v.chat_id)
        .await?
        .ok_or(CoreError::ChatNotFound)?;
    let s = super::super::lock(&slot.state).clone();
    let change = join_as_agent(&s, "Alice", &id("a1"), 1);
    assert!(change.events.is_empty() && change.record.is_none());
    let other = join_as_agent(&s, "Ann", &id("a2"), 1);
    assert_eq!(other.events.len(), 1, "another account joins");
    Ok(())
}

#[tokio::test]
async fn a_take_over_frees_every_agent_routing_gives_the_chat_and_answers_its_queue() -> R {
    let k = Kit::new().await?;
    let v = k.accepted().await?;
    k.agents.login(&id("boss")).await?;
    let watched = k.agents.monitor(&id("boss"), &v.chat_id).await?;
    assert_eq!(watched.queue.as_str(), "q");
    let took = k.agents.take_over(&id("boss"), &v.chat_id).await?;
    assert_eq!(took.queue.as_str(), "q");
    // A routing state that still gives the chat to a1 (a take-over whose routing step was
    // lost): taking over again, which removes nobody from the chat, still frees a1.
    k.engine
        .route(|r, _| {
            r.restore_assignment(&id("a1"), v.chat_id.clone());
            ((), Vec::new())
        })
        .await?;
    k.agents.take_over(&id("boss"), &v.chat_id).await?;
    let a1_has = k
        .routing(|r| {
            r.agent(&id("a1"))
                .is_some_and(|a| a.chats.contains(&v.chat_id))
        })
        .await?;
    assert!(!a1_has, "a1 is freed");
    Ok(())
}
