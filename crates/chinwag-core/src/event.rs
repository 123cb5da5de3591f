//! Transcript events: what happened in a chat, in order, as the Chat Server records it.

use crate::ids::{EventIndex, ParticipantId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Key/value data attached to a chat or an event (`userData`).
pub type UserData = BTreeMap<String, String>;

/// The kind of party a participant is (`from.type` on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartyType {
    /// The customer who requested the chat.
    Client,
    /// A human agent.
    Agent,
    /// A supervisor (monitoring or coaching).
    Supervisor,
    /// A system or external party (bots, notices from the service).
    External,
}

impl PartyType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "Client",
            Self::Agent => "Agent",
            Self::Supervisor => "Supervisor",
            Self::External => "External",
        }
    }
}

/// Event types of the Digital Channels Chat V2 response format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A party joined; index 1 is always the client's own join.
    ParticipantJoined,
    /// A party left.
    ParticipantLeft,
    /// A chat message.
    Message,
    /// Typing started; `text` is the preview.
    TypingStarted,
    /// Typing stopped; `text` is the preview.
    TypingStopped,
    /// A nickname changed; `text` is the new nickname.
    NicknameUpdated,
    /// A pushed web page; `text` is the URL.
    PushUrl,
    /// A system notice.
    Notice,
    /// An application-defined notice.
    CustomNotice,
    /// A file was uploaded (later issue).
    FileUploaded,
    /// A file was deleted (later issue).
    FileDeleted,
    /// Inactivity alert.
    IdleAlert,
    /// Inactivity close.
    IdleClose,
}

impl EventKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ParticipantJoined => "ParticipantJoined",
            Self::ParticipantLeft => "ParticipantLeft",
            Self::Message => "Message",
            Self::TypingStarted => "TypingStarted",
            Self::TypingStopped => "TypingStopped",
            Self::NicknameUpdated => "NicknameUpdated",
            Self::PushUrl => "PushUrl",
            Self::Notice => "Notice",
            Self::CustomNotice => "CustomNotice",
            Self::FileUploaded => "FileUploaded",
            Self::FileDeleted => "FileDeleted",
            Self::IdleAlert => "IdleAlert",
            Self::IdleClose => "IdleClose",
        }
    }
}

/// Who produced an event, as it was at that moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Display name at the time of the event (shared, since it repeats on every event).
    pub nickname: Arc<str>,
    /// Participant number inside the chat.
    pub participant_id: ParticipantId,
    /// Kind of party.
    pub party_type: PartyType,
}

/// Bytes every event costs on the wire besides its strings (field names, numbers, type).
const EVENT_OVERHEAD: usize = 160;

impl Event {
    /// About how many bytes the event takes as GMS JSON: its strings as JSON writes them
    /// (escapes included) plus a fixed allowance for the field names and numbers. Used to
    /// bound what one chat holds and what one answer carries: cheap, and never below the
    /// real size by more than the allowance's slack.
    pub fn wire_size(&self) -> usize {
        use crate::validate::{json_size, json_str_len};
        let text = |s: Option<&str>| s.map_or(0, json_str_len);
        let data = self.user_data.as_deref().map_or(0, |d| {
            d.iter()
                .map(|(k, v)| json_str_len(k) + json_str_len(v) + 6)
                .sum()
        });
        let attributes = self.event_attributes.as_deref().map_or(0, json_size);
        EVENT_OVERHEAD
            + json_str_len(&self.from.nickname)
            + text(self.text.as_deref())
            + text(self.message_type.as_deref())
            + data
            + attributes
    }
}

/// One transcript event. Immutable once committed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the transcript, strictly increasing from 1.
    pub index: EventIndex,
    /// What happened.
    pub kind: EventKind,
    /// Who did it.
    pub from: Party,
    /// Text payload; meaning depends on `kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Box<str>>,
    /// Client-chosen message type (echoed as `messageType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<Box<str>>,
    /// Epoch milliseconds.
    pub utc_time_ms: i64,
    /// Event-specific key/values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<Box<UserData>>,
    /// Structured attributes (`eventAttributes`), kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_attributes: Option<Box<serde_json::Value>>,
}
