//! The success envelope of GMS Chat API v2 and the event format inside it, field for field.

use chinwag_core::engine::ChatView;
use chinwag_core::event::{Event, UserData};
use serde::Serialize;

/// `from` of an event.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireParty<'a> {
    nickname: &'a str,
    participant_id: u32,
    #[serde(rename = "type")]
    party_type: &'static str,
}

/// One event as GMS clients read it.
#[derive(Serialize)]
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

/// The response envelope (§1.3): field order as in the GMS samples.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<'a> {
    messages: Vec<WireEvent<'a>>,
    chat_ended: bool,
    status_code: u8,
    alias: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    secure_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    chat_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_position: Option<u64>,
    monitored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<[crate::error::WireErrorOwned; 1]>,
}

impl<'a> Envelope<'a> {
    /// The envelope for `view`; `with_credentials` is false after a disconnect.
    pub fn of(view: &'a ChatView, with_credentials: bool) -> Self {
        Self {
            messages: view.events.iter().map(WireEvent::from).collect(),
            chat_ended: view.ended,
            status_code: 0,
            alias: view.alias.to_string(),
            secure_key: with_credentials.then(|| view.secure_key.as_str()),
            user_id: with_credentials.then(|| view.user_id.as_str()),
            chat_id: view.chat_id.as_str(),
            next_position: view.next_position,
            monitored: view.monitored,
            errors: None,
        }
    }

    /// Marks the envelope as an error (statusCode 2) while keeping its content.
    pub fn with_error(mut self, code: u16, advice: &str) -> Self {
        self.status_code = 2;
        self.errors = Some([crate::error::WireErrorOwned {
            code,
            advice: advice.to_owned(),
        }]);
        self
    }
}
