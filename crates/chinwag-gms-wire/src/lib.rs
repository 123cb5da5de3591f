//! GMS Chat API v2 wire shapes that both GMS adapters (REST and CometD) and push speak: the
//! event object inside `messages`, the GMS error code and advice of each engine error, the
//! two envelopes (the REST answer, [`envelope`]; the CometD notification, [`notification`]),
//! the `transcriptPosition` rules ([`position`]) and the sealed CometD `secureKey`
//! ([`comet_key`]). Each exists here once: the adapters cannot drift apart, none depends on
//! another, and the core holds nothing of GMS.

pub mod comet_key;
pub mod envelope;
pub mod notification;
pub mod position;

use chinwag_core::CoreError;
use chinwag_core::event::{Event, UserData};
use chinwag_core::files::FileError;
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

/// `{code, advice}` inside `errors[]`.
#[derive(Serialize, Debug)]
pub struct WireError<'a> {
    /// GMS code.
    pub code: u16,
    /// Advice.
    pub advice: &'a str,
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
    /// A temporary failure (the node is stopping, or its store does not answer): sent with
    /// `statusCode` 1, which Genesys Widgets retry and count towards "chat server offline",
    /// instead of 2.
    pub temporary: bool,
}

impl GmsCode {
    /// The GMS `statusCode` of an answer carrying this error: 1 temporary, else 2.
    pub fn status_code(&self) -> u8 {
        if self.temporary { 1 } else { 2 }
    }
}

/// The GMS code of an engine error (Chinwag uses 400 for malformed or missing parameters).
pub fn code_of(e: &CoreError) -> GmsCode {
    let plain = |code| GmsCode {
        code,
        chat_ended: false,
        internal: false,
        temporary: false,
    };
    let temporary = GmsCode {
        temporary: true,
        ..plain(503)
    };
    match e {
        CoreError::UnknownService
        | CoreError::ChatNotFound
        | CoreError::NotLoggedIn
        | CoreError::NoSuchOffer
        | CoreError::NotInChat
        | CoreError::Transfer(_)
        | CoreError::Forbidden
        | CoreError::Monitoring => plain(404),
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
        CoreError::InvalidArgument(_) | CoreError::NoSuchEvent => plain(400),
        CoreError::Unavailable | CoreError::Store(chinwag_core::StoreError::Unavailable) => {
            temporary
        }
        CoreError::Unauthorized => plain(401),
        CoreError::File(f) => file_code(f),
        CoreError::Store(_) | CoreError::Random => GmsCode {
            internal: true,
            ..plain(500)
        },
    }
}

/// The GMS code of a refused file operation: 201 too many files, 202 too many bytes (one
/// file over `upload-max-file-size` too), 203 a type not allowed or a file the scan hook
/// rejected; a scan that could not decide is temporary.
fn file_code(f: &FileError) -> GmsCode {
    let plain = |code| GmsCode {
        code,
        chat_ended: false,
        internal: false,
        temporary: false,
    };
    match f {
        FileError::TooManyFiles { .. } => plain(201),
        FileError::FileTooLarge { .. } | FileError::TotalTooLarge { .. } => plain(202),
        FileError::TypeNotAllowed { .. } | FileError::Rejected(_) => plain(203),
        FileError::Disabled | FileError::NotFound => plain(404),
        FileError::NotYours => plain(401),
        FileError::ScanFailed => GmsCode {
            temporary: true,
            ..plain(503)
        },
        FileError::NeedAgent
        | FileError::DownloadsUsed { .. }
        | FileError::Body(_)
        | FileError::BadId => plain(400),
    }
}

/// The advice a GMS client reads for an engine error: the engine's words, in GMS terms
/// where they differ (a read receipt names its event by `transcriptPosition`; file limits
/// 201 and 202 carry the limit alone, which Genesys Widgets put into their message, and 203
/// the allowed types); a generic text for a server-side failure (its detail goes to the
/// log, not to the client).
pub fn advice_of(e: &CoreError) -> String {
    match e {
        CoreError::NoSuchEvent => position::PositionError::NotAnEvent.to_string(),
        CoreError::File(FileError::TooManyFiles { max }) => max.to_string(),
        CoreError::File(FileError::FileTooLarge { max } | FileError::TotalTooLarge { max }) => {
            max.to_string()
        }
        CoreError::File(FileError::TypeNotAllowed { allowed, .. }) => allowed.clone(),
        e if code_of(e).internal => "unexpected service error".into(),
        e => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chinwag_core::StoreError;

    #[test]
    fn a_read_receipt_of_no_event_is_worded_in_gms_terms() {
        let e = CoreError::NoSuchEvent;
        assert_eq!(code_of(&e).code, 400);
        assert_eq!(
            advice_of(&e),
            "transcriptPosition must be the index of an event"
        );
        assert_eq!(
            advice_of(&CoreError::Store(StoreError::Backend("disk".into()))),
            "unexpected service error",
            "no server detail reaches the client"
        );
        assert_eq!(advice_of(&CoreError::ChatEnded), "chat session has ended");
    }

    #[test]
    fn a_store_that_does_not_answer_is_a_temporary_503_and_a_broken_one_a_500() {
        let down = code_of(&CoreError::Store(StoreError::Unavailable));
        assert_eq!(
            (down.code, down.status_code(), down.internal),
            (503, 1, false)
        );
        let draining = code_of(&CoreError::Unavailable);
        assert_eq!((draining.code, draining.status_code()), (503, 1));
        let broken = code_of(&CoreError::Store(StoreError::Backend("disk".into())));
        assert_eq!(
            (broken.code, broken.status_code(), broken.internal),
            (500, 2, true)
        );
        let limited = code_of(&CoreError::RateLimited {
            creation: false,
            retry_after_secs: 1,
        });
        assert_eq!((limited.code, limited.status_code()), (503, 2));
    }
}
