//! GMS Chat API v2 wire shapes that both GMS adapters (REST and CometD) and push speak: the
//! event object inside `messages`, the GMS error code of each engine error, and the sealed
//! CometD `secureKey` ([`comet_key`]). Keeping them here means the adapters cannot drift
//! apart, and none depends on another.

pub mod comet_key;
pub mod notification;
pub mod position;

use chinwag_core::CoreError;
use chinwag_core::event::{Event, UserData};
use serde::Serialize;

/// `from` of an event.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
struct WireParty<'a> {
    nickname: &'a str,
    participant_id: u32,
    #[serde(rename = "type")]
    party_type: &'static str,
}

/// One event as GMS clients read it.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct WireEvent<'a> {
    from: WireParty<'a>,
    index: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_type: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    utc_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_data: Option<&'a UserData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_attributes: Option<&'a serde_json::Value>,
}

impl<'a> From<&'a Event> for WireEvent<'a> {
    fn from(e: &'a Event) -> Self {
        Self {
            from: WireParty {
                nickname: &e.from.nickname,
                participant_id: e.from.participant_id.0,
                party_type: e.from.party_type.as_str(),
            },
            index: e.index.0,
            text: e.text.as_deref(),
            message_type: e.message_type.as_deref(),
            kind: e.kind.as_str(),
            utc_time: e.utc_time_ms,
            user_data: e.user_data.as_deref(),
            event_attributes: e.event_attributes.as_deref(),
        }
    }
}

/// How an engine error appears in GMS `errors[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GmsCode {
    /// The GMS error code.
    pub code: u16,
    /// The error concerns a chat that has ended.
    pub chat_ended: bool,
    /// A server-side failure (the advice is replaced by a generic text).
    pub internal: bool,
}

/// The GMS code of an engine error (Chinwag uses 400 for malformed or missing parameters).
pub fn code_of(e: &CoreError) -> GmsCode {
    let plain = |code| GmsCode {
        code,
        chat_ended: false,
        internal: false,
    };
    match e {
        CoreError::UnknownService
        | CoreError::ChatNotFound
        | CoreError::NotLoggedIn
        | CoreError::NoSuchOffer
        | CoreError::NotInChat => plain(404),
        CoreError::ChatEnded => GmsCode {
            chat_ended: true,
            ..plain(404)
        },
        CoreError::NameRequired => plain(161),
        CoreError::FirstNameRequired => plain(102),
        CoreError::LastNameRequired => plain(103),
        CoreError::InvalidEmail => plain(364),
        CoreError::MessageTooLong { .. } => plain(204),
        CoreError::ServiceFull => plain(240),
        CoreError::TooLarge(_) => plain(413),
        // A new chat over its rate gets "cannot start a new chat now"; other operations
        // "service busy" (both what Genesys Widgets show for those codes).
        CoreError::RateLimited { creation: true, .. } => plain(240),
        CoreError::RateLimited {
            creation: false, ..
        } => plain(503),
        CoreError::InvalidArgument(_) => plain(400),
        CoreError::Unavailable => plain(503),
        CoreError::Unauthorized => plain(401),
        CoreError::Store(_) | CoreError::Random => GmsCode {
            internal: true,
            ..plain(500)
        },
    }
}
