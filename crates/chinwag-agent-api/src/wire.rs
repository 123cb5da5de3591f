//! JSON shapes of the agent API (snake_case), built from engine views.

use chinwag_core::event::{PartyType, UserData};
use chinwag_core::files::FileInfo;
use chinwag_core::ids::{EventIndex, ParticipantId};
use chinwag_core::roles::agents::{AgentChatView, AgentStatus};
use serde::Serialize;
use serde_json::{Value, json};

pub(crate) fn status(s: &AgentStatus) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "logged_in": s.logged_in,
        "ready": s.ready,
        "reason": s.reason,
        "capacity": s.capacity,
        "chats": s.chats,
        "offers": s.offers.iter().map(|o| json!({
            "chat_id": o.chat_id, "service": o.service, "expires_ms": o.expires_ms,
        })).collect::<Vec<_>>(),
    })
}

pub(crate) fn chat(v: &AgentChatView) -> Value {
    json!({
        "chat_id": v.chat_id,
        "service": v.service,
        "queue": v.queue,
        "subject": v.subject,
        "email": v.email,
        "user_data": v.user_data,
        "ended": v.ended,
        "participants": v.participants,
        "events": v.events,
        "next_position": v.next_position,
    })
}

/// One file of a chat (`GET …/files`, and the answer to an upload).
#[derive(Serialize)]
pub(crate) struct FileView {
    /// The file's id (32 hex digits).
    pub(crate) id: String,
    /// Its safe name.
    pub(crate) name: String,
    /// Size in bytes.
    pub(crate) size: u64,
    /// MIME type, judged from its content.
    #[serde(rename = "type")]
    pub(crate) mime: String,
    /// The uploader's description (may be empty).
    pub(crate) description: String,
    /// Who uploaded it.
    pub(crate) uploaded_by: Uploader,
    /// Index of its `FileUploaded` event.
    pub(crate) index: EventIndex,
    /// Every `userData` key of that event: the details above and the uploader's own keys.
    pub(crate) user_data: UserData,
}

/// The uploader of a file.
#[derive(Serialize)]
pub(crate) struct Uploader {
    /// Its participant number in the chat.
    pub(crate) participant_id: ParticipantId,
    /// `Client`, `Agent` or `Supervisor`.
    pub(crate) party_type: PartyType,
}

impl From<FileInfo> for FileView {
    fn from(f: FileInfo) -> Self {
        Self {
            id: f.id.to_string(),
            name: f.name,
            size: f.size,
            mime: f.mime,
            description: f.description,
            uploaded_by: Uploader {
                participant_id: f.owner,
                party_type: f.party_type,
            },
            index: f.index,
            user_data: f.user_data,
        }
    }
}

/// `GET …/files`: the chat's files not deleted, in upload order.
#[derive(Serialize)]
pub(crate) struct FileList {
    pub(crate) files: Vec<FileView>,
}
