//! The `data` of a GMS CometD notification (and of a push with payload): the REST envelope
//! ([`crate::envelope`]) with the deprecated ids as placeholders (`alias` "0", `userId`/`chatId` "deprecated") and the CometD `secureKey`.

pub use crate::WireError;
use crate::WireEvent;
use chinwag_core::event::Event;
use serde::Serialize;

/// Placeholder GMS sends for the deprecated ids.
pub const DEPRECATED: &str = "deprecated";

/// A notification's data.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Notification<'a> {
    messages: Vec<WireEvent<'a>>,
    chat_ended: bool,
    status_code: u8,
    alias: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secure_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'static str>,
    chat_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_position: Option<u64>,
    monitored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<[WireError<'a>; 1]>,
}

impl<'a> Notification<'a> {
    /// A successful notification with `events`.
    pub fn ok(
        events: impl IntoIterator<Item = &'a Event>,
        key: Option<&'a str>,
        chat_ended: bool,
        monitored: bool,
        next_position: Option<u64>,
    ) -> Self {
        Self {
            messages: events.into_iter().map(WireEvent::from).collect(),
            chat_ended,
            status_code: 0,
            alias: "0",
            user_id: key.map(|_| DEPRECATED),
            secure_key: key,
            chat_id: DEPRECATED,
            next_position,
            monitored,
            errors: None,
        }
    }

    /// An error notification (`statusCode` 2, or 1 for a temporary failure).
    pub fn error(
        code: u16,
        advice: &'a str,
        key: Option<&'a str>,
        chat_ended: bool,
        temporary: bool,
    ) -> Self {
        Self {
            status_code: if temporary { 1 } else { 2 },
            errors: Some([WireError { code, advice }]),
            ..Self::ok([], key, chat_ended, false, None)
        }
    }
}
