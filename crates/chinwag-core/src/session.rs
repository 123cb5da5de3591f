//! One chat session: its persisted record, its transcript, and the pure rules that turn an
//! operation into new events. Nothing here does I/O; the engine persists what these return.

use crate::event::{Event, EventKind, Party, PartyType, UserData};
use crate::ids::{
    AgentId, ChatId, EventIndex, NodeAlias, ParticipantId, SecureKey, ServiceName, UserId,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A participant of one chat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// Number inside the chat.
    pub id: ParticipantId,
    /// Kind of party.
    pub party_type: PartyType,
    /// Current display name.
    pub nickname: Arc<str>,
    /// The agent account behind an Agent/Supervisor participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// When the participant joined (epoch ms).
    pub joined_ms: i64,
    /// When the participant left, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_ms: Option<i64>,
    /// Highest transcript index this participant acknowledged reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_up_to: Option<EventIndex>,
}

impl Participant {
    /// Whether the participant is still in the chat.
    pub fn present(&self) -> bool {
        self.left_ms.is_none()
    }
    fn party(&self) -> Party {
        Party {
            nickname: self.nickname.clone(),
            participant_id: self.id,
            party_type: self.party_type,
        }
    }
}

/// The persisted header of a session: everything but the transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Chat id.
    pub chat_id: ChatId,
    /// Service the chat was requested on.
    pub service: ServiceName,
    /// Customer's user id.
    pub user_id: UserId,
    /// Customer's secret.
    pub secure_key: SecureKey,
    /// Node that owns the chat.
    pub alias: NodeAlias,
    /// Creation time (epoch ms).
    pub created_ms: i64,
    /// End time, once ended.
    #[serde(default)]
    pub ended_ms: Option<i64>,
    /// Customer-entered subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Customer e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Customer first name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Customer last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Attached data, merged by updateData.
    #[serde(default)]
    pub user_data: UserData,
    /// Everyone who ever joined, in join order.
    pub participants: Vec<Participant>,
    /// The customer's downloads per file id (for `download-attempts`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub downloads: std::collections::BTreeMap<String, u32>,
}

impl SessionRecord {
    /// Agent accounts currently in the chat as `Agent` (what routing needs, from the header
    /// alone): a supervisor monitoring it silently is not one of them, so a chat whose last
    /// agent leaves queues again and `upload-need-agent` still wants an agent.
    pub fn present_agents(&self) -> Vec<AgentId> {
        self.participants
            .iter()
            .filter(|p| p.present() && p.party_type != PartyType::Supervisor)
            .filter_map(|p| p.agent_id.clone())
            .collect()
    }

    /// Every account currently in the chat: its agents and the supervisors monitoring it
    /// (who hear its events on their streams, and keep it in memory, as agents do).
    pub fn present_accounts(&self) -> Vec<AgentId> {
        self.participants
            .iter()
            .filter(|p| p.present())
            .filter_map(|p| p.agent_id.clone())
            .collect()
    }
}

/// A session in memory: its record plus its whole transcript.
#[derive(Clone, Debug)]
pub struct Session {
    /// The persisted header.
    pub record: SessionRecord,
    /// Every event, in index order.
    pub events: Vec<Event>,
    /// Sum of the events' [`Event::wire_size`] (what the transcript costs, as bounded by
    /// `max_chat_bytes`).
    pub bytes: usize,
}

/// What an operation changed, for the engine to persist and then apply.
#[derive(Debug, Default)]
pub struct Change {
    /// New events, in order.
    pub events: Vec<Event>,
    /// The new header, when it changed.
    pub record: Option<SessionRecord>,
}

/// The customer's participant id.
pub const CLIENT: ParticipantId = ParticipantId(1);

/// The party system notices come from (`External` is shown by Genesys Widgets as a system
/// message; participant 0 is no participant).
pub const SYSTEM: ParticipantId = ParticipantId(0);

impl Session {
    /// A session made of `record` and `events` (as loaded from the store).
    pub fn new(record: SessionRecord, events: Vec<Event>) -> Self {
        let bytes = events.iter().map(Event::wire_size).sum();
        Self {
            record,
            events,
            bytes,
        }
    }

    /// Starts a session with the client's `ParticipantJoined` at index 1 (and an initial
    /// message at index 2 when `first_text` is non-empty).
    pub fn start(record: SessionRecord, now_ms: i64, first_text: Option<&str>) -> (Self, Change) {
        let mut session = Session::new(record, Vec::new());
        if let Some(join) = session.event_from(CLIENT, EventKind::ParticipantJoined, None, now_ms) {
            session.events.push(join);
        }
        if let Some(text) = first_text.filter(|t| !t.is_empty())
            && let Some(mut msg) =
                session.event_from(CLIENT, EventKind::Message, Some(text), now_ms)
        {
            msg.message_type = Some("text".into());
            session.events.push(msg);
        }
        session.bytes = session.events.iter().map(Event::wire_size).sum();
        let change = Change {
            record: Some(session.record.clone()),
            events: session.events.clone(),
        };
        (session, change)
    }

    /// Index the next event will get.
    pub fn next_index(&self) -> EventIndex {
        EventIndex(self.events.last().map_or(1, |e| e.index.0 + 1))
    }

    /// Whether the session has ended.
    pub fn ended(&self) -> bool {
        self.record.ended_ms.is_some()
    }

    /// Whether a supervisor is currently present.
    pub fn monitored(&self) -> bool {
        self.record
            .participants
            .iter()
            .any(|p| p.present() && p.party_type == PartyType::Supervisor)
    }

    /// The participant with this id.
    pub fn participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.record.participants.iter().find(|p| p.id == id)
    }

    /// The present participant for an agent account.
    pub fn agent_participant(&self, agent: &AgentId) -> Option<&Participant> {
        self.record
            .participants
            .iter()
            .find(|p| p.present() && p.agent_id.as_ref() == Some(agent))
    }

    /// Agent accounts currently in the chat as `Agent` (see [`SessionRecord::present_agents`]).
    pub fn present_agents(&self) -> Vec<AgentId> {
        self.record.present_agents()
    }

    /// Every account in the chat, monitoring supervisors included (see
    /// [`SessionRecord::present_accounts`]): who hears its events.
    pub fn present_accounts(&self) -> Vec<AgentId> {
        self.record.present_accounts()
    }

    fn make_event(&self, kind: EventKind, from: Party, text: Option<&str>, now_ms: i64) -> Event {
        Event {
            index: self.next_index(),
            kind,
            from,
            text: text.map(Into::into),
            message_type: None,
            utc_time_ms: now_ms,
            user_data: None,
            event_attributes: None,
        }
    }

    /// Builds (without applying) one event from participant `who`.
    pub fn event_from(
        &self,
        who: ParticipantId,
        kind: EventKind,
        text: Option<&str>,
        now_ms: i64,
    ) -> Option<Event> {
        let p = self.participant(who)?;
        Some(self.make_event(kind, p.party(), text, now_ms))
    }

    /// Applies a committed change.
    pub fn apply(&mut self, change: Change) {
        if let Some(record) = change.record {
            self.record = record;
        }
        self.bytes += change.events.iter().map(Event::wire_size).sum::<usize>();
        self.events.extend(change.events);
    }

    /// Adds a participant (agent or supervisor) and its `ParticipantJoined`.
    pub fn join(
        &self,
        party_type: PartyType,
        nickname: &str,
        agent: AgentId,
        now_ms: i64,
    ) -> Change {
        let mut record = self.record.clone();
        let id = ParticipantId(
            record
                .participants
                .iter()
                .map(|p| p.id.0)
                .max()
                .unwrap_or(0)
                + 1,
        );
        let p = Participant {
            id,
            party_type,
            nickname: nickname.into(),
            agent_id: Some(agent),
            joined_ms: now_ms,
            left_ms: None,
            read_up_to: None,
        };
        let ev = self.make_event(EventKind::ParticipantJoined, p.party(), None, now_ms);
        record.participants.push(p);
        Change {
            events: vec![ev],
            record: Some(record),
        }
    }

    /// Removes a participant with its `ParticipantLeft`; ends the chat when `end` is set.
    pub fn leave(&self, who: ParticipantId, end: bool, now_ms: i64) -> Change {
        let mut record = self.record.clone();
        let mut events = Vec::new();
        if let Some(p) = record
            .participants
            .iter_mut()
            .find(|p| p.id == who && p.present())
        {
            p.left_ms = Some(now_ms);
            events.push(self.make_event(EventKind::ParticipantLeft, p.party(), None, now_ms));
        }
        if end {
            record.ended_ms = Some(now_ms);
        }
        Change {
            events,
            record: Some(record),
        }
    }

    /// Ends the chat on the system's initiative: a `Notice` from the system saying why,
    /// then the customer's `ParticipantLeft`.
    pub fn close_by_system(&self, why: &str, now_ms: i64) -> Change {
        self.close_with(EventKind::Notice, Some(why), now_ms)
    }

    /// A system event of `kind` (an `IdleAlert`, say) with `text`.
    pub fn system_event(&self, kind: EventKind, text: Option<&str>, now_ms: i64) -> Change {
        Change {
            events: vec![self.make_event(kind, system_party(), text, now_ms)],
            record: None,
        }
    }

    /// Ends the chat on the system's initiative with a system event of `kind` (a `Notice`,
    /// an `IdleClose`), then the customer's `ParticipantLeft`.
    pub fn close_with(&self, kind: EventKind, text: Option<&str>, now_ms: i64) -> Change {
        let notice = self.make_event(kind, system_party(), text, now_ms);
        let mut change = self.leave(CLIENT, true, now_ms);
        for (i, e) in change.events.iter_mut().enumerate() {
            e.index = EventIndex(notice.index.0 + 1 + i as u64);
        }
        change.events.insert(0, notice);
        change
    }

    /// Renames a participant with a `NicknameUpdated` event.
    pub fn rename(&self, who: ParticipantId, nickname: &str, now_ms: i64) -> Change {
        let mut record = self.record.clone();
        let mut events = Vec::new();
        if let Some(p) = record.participants.iter_mut().find(|p| p.id == who) {
            p.nickname = nickname.into();
            events.push(self.make_event(
                EventKind::NicknameUpdated,
                p.party(),
                Some(nickname),
                now_ms,
            ));
        }
        Change {
            events,
            record: Some(record),
        }
    }

    /// Merges attached data (no event).
    pub fn merge_data(&self, data: &UserData) -> Change {
        let mut record = self.record.clone();
        for (k, v) in data {
            record.user_data.insert(k.clone(), v.clone());
        }
        Change {
            events: Vec::new(),
            record: Some(record),
        }
    }

    /// Records a read receipt (no transcript event; agents are told over the bus).
    pub fn read_receipt(&self, who: ParticipantId, index: EventIndex) -> Change {
        let mut record = self.record.clone();
        if let Some(p) = record.participants.iter_mut().find(|p| p.id == who) {
            p.read_up_to = Some(p.read_up_to.map_or(index, |old| old.max(index)));
        }
        Change {
            events: Vec::new(),
            record: Some(record),
        }
    }

    /// Events with index ≥ `from`.
    pub fn events_from(&self, from: EventIndex) -> &[Event] {
        let start = self.events.partition_point(|e| e.index < from);
        &self.events[start..]
    }
}

/// Builds the client participant for a new session.
pub fn client_participant(nickname: &str, now_ms: i64) -> Participant {
    Participant {
        id: CLIENT,
        party_type: PartyType::Client,
        nickname: nickname.into(),
        agent_id: None,
        joined_ms: now_ms,
        left_ms: None,
        read_up_to: None,
    }
}

/// The party system events come from.
fn system_party() -> Party {
    Party {
        nickname: "system".into(),
        participant_id: SYSTEM,
        party_type: PartyType::External,
    }
}
