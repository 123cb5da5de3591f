//! What the engine returns to a customer-side adapter.

use crate::event::Event;
use crate::ids::{ChatId, EventIndex, NodeAlias, SecureKey, UserId};
use crate::session::Session;

/// Which transcript events a response should carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// None (and no `nextPosition`).
    Nothing,
    /// Every event with index ≥ the position.
    From(EventIndex),
    /// Only the newest event.
    Last,
}

/// A customer's view of a chat after an operation.
#[derive(Debug, Clone)]
pub struct ChatView {
    /// Chat id.
    pub chat_id: ChatId,
    /// Customer's user id.
    pub user_id: UserId,
    /// Customer's secure key.
    pub secure_key: SecureKey,
    /// Owning node.
    pub alias: NodeAlias,
    /// The chat has ended.
    pub ended: bool,
    /// A supervisor is present.
    pub monitored: bool,
    /// Selected events.
    pub events: Vec<Event>,
    /// Last returned index + 1 (or the requested position when nothing new), when a
    /// selection was made.
    pub next_position: Option<u64>,
}

impl ChatView {
    /// Builds the view of `session` with `selection`.
    pub fn of(session: &Session, selection: Selection) -> Self {
        let (events, next_position) = match selection {
            Selection::Nothing => (Vec::new(), None),
            Selection::From(pos) => {
                let events = session.events_from(pos).to_vec();
                let next = events
                    .last()
                    .map_or(pos.0.max(1).min(session.next_index().0), |e| e.index.0 + 1);
                (events, Some(next))
            }
            Selection::Last => {
                let events: Vec<Event> = session.events.last().cloned().into_iter().collect();
                (events, Some(session.next_index().0))
            }
        };
        Self {
            chat_id: session.record.chat_id.clone(),
            user_id: session.record.user_id.clone(),
            secure_key: session.record.secure_key.clone(),
            alias: session.record.alias,
            ended: session.ended(),
            monitored: session.monitored(),
            events,
            next_position,
        }
    }
}
