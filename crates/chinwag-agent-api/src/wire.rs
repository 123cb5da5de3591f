//! JSON shapes of the agent API (snake_case), built from engine views: every answer the
//! API writes and every frame of its event stream is one of the `Serialize` types here, so
//! the shapes `openapi.json` documents have one place in the code.

use chinwag_core::bus::OfferEnd;
use chinwag_core::event::{Event, PartyType, UserData};
use chinwag_core::files::FileInfo;
use chinwag_core::ids::{AgentId, ChatId, EventIndex, ParticipantId, QueueName, ServiceName};
use chinwag_core::roles::agents::{AgentChatView, AgentStatus};
use chinwag_core::session::Participant;
use serde::Serialize;

/// An agent's status (`GET /me`, `/login`, `/state`, the sign-ins, the stream's first frame).
#[derive(Serialize)]
pub(crate) struct Status<'a> {
    id: &'a AgentId,
    name: &'a str,
    logged_in: bool,
    ready: bool,
    /// Why the agent is not ready (null when ready or logged out).
    reason: Option<&'a str>,
    capacity: u32,
    /// The chats the agent is in.
    chats: &'a [ChatId],
    /// Its pending offers.
    offers: Vec<Offer<'a>>,
}

/// A pending offer, in a status.
#[derive(Serialize)]
pub(crate) struct Offer<'a> {
    chat_id: &'a ChatId,
    service: &'a ServiceName,
    /// When it lapses (epoch ms).
    expires_ms: i64,
}

pub(crate) fn status(s: &AgentStatus) -> Status<'_> {
    Status {
        id: &s.id,
        name: &s.name,
        logged_in: s.logged_in,
        ready: s.ready,
        reason: s.reason.as_deref(),
        capacity: s.capacity,
        chats: &s.chats,
        offers: s
            .offers
            .iter()
            .map(|o| Offer {
                chat_id: &o.chat_id,
                service: &o.service,
                expires_ms: o.expires_ms,
            })
            .collect(),
    }
}

/// A chat as the agent sees it (`GET /chats/{id}`, accept's answer).
#[derive(Serialize)]
pub(crate) struct ChatView<'a> {
    chat_id: &'a ChatId,
    service: &'a ServiceName,
    /// The queue of the chat's service.
    queue: &'a QueueName,
    subject: Option<&'a str>,
    email: Option<&'a str>,
    user_data: &'a UserData,
    ended: bool,
    /// Past and present.
    participants: &'a [Participant],
    /// From the requested position.
    events: &'a [Event],
    /// The position to ask for next.
    next_position: u64,
}

pub(crate) fn chat(v: &AgentChatView) -> ChatView<'_> {
    ChatView {
        chat_id: &v.chat_id,
        service: &v.service,
        queue: &v.queue,
        subject: v.subject.as_deref(),
        email: v.email.as_deref(),
        user_data: &v.user_data,
        ended: v.ended,
        participants: &v.participants,
        events: &v.events,
        next_position: v.next_position,
    }
}

/// The events an action in a chat produced (`POST /chats/{id}/messages`, `…/leave`, …).
#[derive(Serialize)]
pub(crate) struct Events {
    pub(crate) events: Vec<Event>,
}

/// One frame of the event stream: a JSON object whose `type` names the variant.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Frame<'a> {
    /// The first frame: the agent's status.
    Status { status: Status<'a> },
    /// A chat is offered to the agent.
    Offer {
        chat_id: &'a ChatId,
        service: &'a ServiceName,
        expires_ms: i64,
    },
    /// An offer is gone.
    OfferWithdrawn {
        chat_id: &'a ChatId,
        reason: Withdrawn,
    },
    /// The agent's readiness changed.
    State {
        ready: bool,
        reason: Option<&'a str>,
    },
    /// A transcript event of a chat the agent is in.
    Event {
        chat_id: &'a ChatId,
        event: &'a Event,
    },
    /// A participant read up to `index`.
    ReadReceipt {
        chat_id: &'a ChatId,
        participant_id: ParticipantId,
        index: EventIndex,
    },
    /// The customer's live typing preview.
    TypingPreview { chat_id: &'a ChatId, text: &'a str },
    /// A chat the agent was in ended.
    ChatEnded { chat_id: &'a ChatId },
    /// The stream fell behind: reload the state.
    Resync,
}

/// Why an offer was withdrawn.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Withdrawn {
    Timeout,
    Rejected,
    ChatEnded,
    TakenOver,
}

impl From<&OfferEnd> for Withdrawn {
    fn from(e: &OfferEnd) -> Self {
        match e {
            OfferEnd::Timeout => Self::Timeout,
            OfferEnd::Rejected => Self::Rejected,
            OfferEnd::ChatEnded => Self::ChatEnded,
            OfferEnd::TakenOver => Self::TakenOver,
        }
    }
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
