//! What the engine returns to a customer-side adapter (re-exported by
//! [`crate::roles::customers`]): the chat as a [`Selection`] asks for it.

use crate::event::Event;
use crate::ids::{ChatId, EventIndex, NodeAlias, SecureKey, UserId};
use crate::session::Session;

/// Which transcript events a response should carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// None (and no next position).
    Nothing,
    /// Events with index ≥ the position, as many as fit in the answer's byte budget (at least
    /// one); [`ChatView::next_position`] says where to continue.
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
    /// Every event the selection asked for is here (false when the answer's byte budget cut
    /// it: read on from `next_position`).
    pub complete: bool,
}

/// The first events of `events` whose sizes add up to at most `max_bytes` (always at least
/// one, so a reader makes progress).
pub fn page(events: &[Event], max_bytes: usize) -> &[Event] {
    let mut used = 0;
    let n = events
        .iter()
        .take_while(|e| {
            used += e.wire_size();
            used <= max_bytes
        })
        .count();
    &events[..n.max(1).min(events.len())]
}

impl ChatView {
    /// Builds the view of `session` with `selection`, carrying at most `max_bytes` of events.
    pub fn of(session: &Session, selection: Selection, max_bytes: usize) -> Self {
        let mut complete = true;
        let (events, next_position) = match selection {
            Selection::Nothing => (Vec::new(), None),
            Selection::From(pos) => {
                let wanted = session.events_from(pos);
                let events = page(wanted, max_bytes).to_vec();
                complete = events.len() == wanted.len();
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
            complete,
        }
    }
}
