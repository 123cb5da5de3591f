//! What the engine needs to know about services, queues and agent accounts. The binary
//! builds these from its configuration file.

use crate::ids::{AgentId, QueueName, ServiceName};
use chinwag_limits::Rate;

/// One chat service (`/genesys/2/chat/{name}`).
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Service name.
    pub name: ServiceName,
    /// Queue its chats are routed to.
    pub queue: QueueName,
    /// Open sessions allowed at once; beyond it requestChat fails (GMS code 240).
    pub max_sessions: usize,
    /// Longest message, notice or typing preview, in characters (GMS code 204).
    pub max_message_length: usize,
    /// Taken out of service by the operator: every request answers "unavailable" (GMS 503).
    pub maintenance: bool,
    /// What one customer may make the service hold, and how fast.
    pub limits: ServiceLimits,
    /// Chat Server's inactivity control (`IdleAlert` / `IdleClose`).
    pub inactivity: InactivitySettings,
    /// File transfer rules (Chat Server's file limits).
    pub files: crate::files::FileSettings,
}

/// Which customer notices count as activity for inactivity control (Chat Server's
/// `include-notices`). Messages and Widgets' "wake" (`customNotice` with
/// `{"purpose":"cancel-idle-timer"}`) always count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleNotices {
    /// No notice counts.
    None,
    /// Pushed URL, file uploaded, file deleted.
    Major,
    /// `Major` and custom notices.
    Major2,
    /// `Major` and typing started.
    Typing,
    /// Every notice: custom, pushed URL, files, typing started and stopped, nickname.
    All,
}

/// Chat Server's `[inactivity-control]`: a customer silent (while an agent is in the chat)
/// for `alert_after_ms` gets an `IdleAlert`, then optionally a second one `alert2_after_ms`
/// later, and the chat is closed with an `IdleClose` `close_after_ms` after the last alert.
/// An empty message records its event without text.
#[derive(Debug, Clone)]
pub struct InactivitySettings {
    /// Off: no timers, no alerts.
    pub enabled: bool,
    /// Customer silence before the first alert.
    pub alert_after_ms: i64,
    /// Time from the first alert to the second; `None`: no second alert.
    pub alert2_after_ms: Option<i64>,
    /// Time from the last alert to the close.
    pub close_after_ms: i64,
    /// Text of the first alert.
    pub message_alert: String,
    /// Text of the second alert.
    pub message_alert2: String,
    /// Text of the close.
    pub message_close: String,
    /// Notices that count as customer activity.
    pub include_notices: IdleNotices,
}

impl Default for InactivitySettings {
    fn default() -> Self {
        Self {
            enabled: false,
            alert_after_ms: 300_000,
            alert2_after_ms: None,
            close_after_ms: 120_000,
            message_alert: "The chat session will be closed soon due to inactivity.".into(),
            message_alert2: "The chat session will be closed very soon due to inactivity.".into(),
            message_close: "The chat session was closed due to inactivity.".into(),
            include_notices: IdleNotices::Major,
        }
    }
}

/// Bounds on what one chat may grow to and how fast clients may act, per service. Every
/// limit answers with a clear error when hit (see the operator's guide, "Limits").
#[derive(Debug, Clone)]
pub struct ServiceLimits {
    /// Transcript events one chat may hold; content beyond it is refused (leaving and
    /// ending always work).
    pub max_events_per_chat: usize,
    /// Bytes (as GMS JSON, estimated) one chat's transcript may hold.
    pub max_chat_bytes: usize,
    /// `userData` keys one chat may hold.
    pub max_user_data_keys: usize,
    /// `userData` bytes (keys and values) one chat may hold.
    pub max_user_data_bytes: usize,
    /// Bytes of events one answer carries; a transcript read returns at most this much and
    /// its `nextPosition` continues from there.
    pub max_response_bytes: usize,
    /// Largest `eventAttributes` (as JSON).
    pub max_attributes_bytes: usize,
    /// Deepest nesting of `eventAttributes`.
    pub max_attributes_depth: usize,
    /// New chats per client address.
    pub create_per_ip: Rate,
    /// New chats on the whole service.
    pub create_per_service: Rate,
    /// Operations on chats per client address.
    pub ops_per_ip: Rate,
    /// Operations on chats on the whole service.
    pub ops_per_service: Rate,
    /// A chat whose customer made no request for this long, and is not connected over
    /// CometD, is ended (GMS `flex-disconnect-timeout`); push-subscribed chats use the push
    /// timeout instead. `None`: never.
    pub abandon_after_ms: Option<i64>,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        Self {
            max_events_per_chat: 5_000,
            max_chat_bytes: 2 << 20,
            max_user_data_keys: 100,
            max_user_data_bytes: 32 << 10,
            max_response_bytes: 256 << 10,
            max_attributes_bytes: 32 << 10,
            max_attributes_depth: 32,
            create_per_ip: Rate::new(1.0, 20),
            create_per_service: Rate::new(50.0, 200),
            ops_per_ip: Rate::new(100.0, 500),
            ops_per_service: Rate::UNLIMITED,
            abandon_after_ms: Some(180_000),
        }
    }
}

/// One routing queue.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Queue name.
    pub name: QueueName,
    /// How long an agent has to accept an offer before it goes to someone else.
    pub offer_timeout_ms: i64,
    /// Longest a chat may wait in the queue (not counting time under offer) before it is
    /// ended; `None` = no limit.
    pub max_wait_ms: Option<i64>,
}

/// What an account may do: handle chats, or supervise too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentRole {
    /// Handles the chats it accepts (joins them as `Agent`).
    Agent,
    /// A supervisor: also sees the overview of queues, agents and chats, monitors chats
    /// silently (as a `Supervisor` participant: the chat is then `monitored`) and takes chats
    /// over. Chats it accepts or takes over it joins as `Agent`.
    Supervisor,
}

/// An agent account.
#[derive(Debug, Clone)]
pub struct AgentAccount {
    /// Account id.
    pub id: AgentId,
    /// Nickname shown to customers.
    pub name: String,
    /// Login token (a secret); empty: none (the account signs in to the console only).
    pub token: String,
    /// Queues the agent takes chats from.
    pub queues: Vec<QueueName>,
    /// Concurrent chats the agent can handle.
    pub capacity: u32,
    /// Role in chats.
    pub role: AgentRole,
}

/// Everything the engine is configured with.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// This node's id (GMS `alias`, health `app_dbid`).
    pub alias: crate::ids::NodeAlias,
    /// Chat services.
    pub services: Vec<ServiceSettings>,
    /// Routing queues.
    pub queues: Vec<QueueSettings>,
    /// Agent accounts.
    pub agents: Vec<AgentAccount>,
    /// How long ended sessions stay readable before they are purged.
    pub ended_retention_ms: i64,
    /// Push notifications.
    pub push: crate::push::PushSettings,
    /// What agents' desks offer: not-ready reasons, canned responses per queue.
    pub desk: DeskSettings,
}

/// The reason a missed offer sets (the router sets the agent not ready).
pub const MISSED_OFFER: &str = "Missed offer";

/// The not-ready reasons when none are configured.
pub const DEFAULT_NOT_READY_REASONS: [&str; 5] =
    ["Break", "Lunch", "Meeting", "Training", "After-chat work"];

/// One canned response an agent may pick.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CannedResponse {
    /// Short label shown in the picker.
    pub label: String,
    /// The text it inserts.
    pub text: String,
}

/// What agents' desks offer (`[presence]`, `[queues.<name>] canned`).
#[derive(Debug, Clone)]
pub struct DeskSettings {
    /// The reasons an agent may give for not being ready, the first the default (never
    /// empty).
    pub not_ready_reasons: Vec<String>,
    /// Canned responses per queue (queues without any are left out).
    pub canned: Vec<(QueueName, Vec<CannedResponse>)>,
}

impl Default for DeskSettings {
    fn default() -> Self {
        Self {
            not_ready_reasons: DEFAULT_NOT_READY_REASONS.map(String::from).to_vec(),
            canned: Vec::new(),
        }
    }
}

impl DeskSettings {
    /// The reason a not-ready agent has when it gave none.
    pub fn default_reason(&self) -> &str {
        self.not_ready_reasons
            .first()
            .map_or(DEFAULT_NOT_READY_REASONS[0], String::as_str)
    }

    /// The canned responses of `queue` (empty when it has none).
    pub fn canned_of(&self, queue: &QueueName) -> &[CannedResponse] {
        self.canned
            .iter()
            .find(|(q, _)| q == queue)
            .map_or(&[], |(_, c)| c.as_slice())
    }
}
