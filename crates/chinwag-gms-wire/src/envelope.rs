//! The success envelope of a GMS Chat API v2 REST answer (§1.3), field for field: the
//! events of a [`ChatView`] with the chat's credentials. (CometD notifications carry the
//! same fields with the deprecated ids as placeholders: [`crate::notification`].)

use crate::{WireError, WireEvent};
use chinwag_core::roles::customers::ChatView;
use serde::Serialize;

/// The response envelope: field order as in the GMS samples.
#[derive(Serialize, Debug)]
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
    errors: Option<[WireError<'a>; 1]>,
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
    pub fn with_error(mut self, code: u16, advice: &'a str) -> Self {
        self.status_code = 2;
        self.errors = Some([WireError { code, advice }]);
        self
    }
}
