//! GMS's `transcriptPosition` rules, the same over REST and CometD: which events an answer
//! carries (absent or 0: none, -1: the newest, n > 0: from n), which event a read receipt
//! names (n > 0), and where a CometD `requestNotifications` starts (absent or 0: the first
//! event, n > 0: n). Adapters parse the number; these say what it means or why it is refused.

use chinwag_core::engine::Selection;
use chinwag_core::ids::EventIndex;

/// Why a position was refused (the adapter words the error in its own format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    /// Not -1, 0 or positive.
    #[error("transcriptPosition must be -1, 0 or positive")]
    OutOfRange,
    /// A read receipt's position is not the index of an event.
    #[error("transcriptPosition must be the index of an event")]
    NotAnEvent,
    /// A read receipt without a position.
    #[error("parameter 'transcriptPosition' is required")]
    Missing,
    /// A watch's start that is negative.
    #[error("transcriptPosition must be 0 or positive")]
    Negative,
}

/// Which events an answer carries for `position`.
pub fn selection(position: Option<i64>) -> Result<Selection, PositionError> {
    match position {
        None | Some(0) => Ok(Selection::Nothing),
        Some(-1) => Ok(Selection::Last),
        Some(n) if n > 0 => Ok(Selection::From(EventIndex(n.unsigned_abs()))),
        Some(_) => Err(PositionError::OutOfRange),
    }
}

/// The event a read receipt at `position` names.
pub fn receipt(position: Option<i64>) -> Result<EventIndex, PositionError> {
    match position {
        Some(n) if n > 0 => Ok(EventIndex(n.unsigned_abs())),
        Some(_) => Err(PositionError::NotAnEvent),
        None => Err(PositionError::Missing),
    }
}

/// The first event a `requestNotifications` at `position` sends.
pub fn watch_from(position: Option<i64>) -> Result<EventIndex, PositionError> {
    match position.unwrap_or(0) {
        n if n < 0 => Err(PositionError::Negative),
        n => Ok(EventIndex(n.unsigned_abs().max(1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_mean_the_same_everywhere() {
        assert_eq!(selection(None), Ok(Selection::Nothing));
        assert_eq!(selection(Some(0)), Ok(Selection::Nothing));
        assert_eq!(selection(Some(-1)), Ok(Selection::Last));
        assert_eq!(selection(Some(5)), Ok(Selection::From(EventIndex(5))));
        assert_eq!(selection(Some(-7)), Err(PositionError::OutOfRange));
        assert_eq!(receipt(Some(3)), Ok(EventIndex(3)));
        assert_eq!(receipt(Some(0)), Err(PositionError::NotAnEvent));
        assert_eq!(receipt(None), Err(PositionError::Missing));
        assert_eq!(watch_from(None), Ok(EventIndex(1)));
        assert_eq!(watch_from(Some(0)), Ok(EventIndex(1)));
        assert_eq!(watch_from(Some(4)), Ok(EventIndex(4)));
        assert_eq!(watch_from(Some(-1)), Err(PositionError::Negative));
    }
}
