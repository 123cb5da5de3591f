//! Push notifications as the Chat Server sees them: who is subscribed (from the session's
//! `userData`), which transcript events are pushed, and the durable jobs that say "deliver
//! this event to that device". Building the wire body and talking to providers is an
//! adapter's job (`chinwag-push`); the jobs are written in the same store commit as the
//! events they announce, so an accepted event is never left without its push.

mod claims;
mod plan;
mod subscription;

pub use claims::{LocalSeqs, PushClaims};
pub use plan::{PushSettings, plan};
pub use subscription::{Api, DeviceType, Subscription};

use crate::ids::{ChatId, EventIndex};
use serde::{Deserialize, Serialize};

/// What a job announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobKind {
    /// The transcript event at `index`.
    Event,
    /// A managed shutdown (`shutdown-notify-flex-push`): a `ParticipantLeft` of the client
    /// with `quit-reason-advice=reconnect`, not in the transcript.
    Shutdown,
}

impl JobKind {
    /// Stable name for storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Shutdown => "shutdown",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "event" => Some(Self::Event),
            "shutdown" => Some(Self::Shutdown),
            _ => None,
        }
    }
}

/// One push to deliver, durable in the outbox until it is delivered (or, for reliable
/// delivery, acknowledged by the client or out of resend attempts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushJob {
    /// Outbox order: strictly increasing; pushes to one device go out in this order.
    pub seq: u64,
    /// The device (`type:deviceId`): the unit of ordering.
    pub device: String,
    /// The chat.
    pub chat_id: ChatId,
    /// The event announced (for [`JobKind::Shutdown`], the transcript end at that moment).
    pub index: EventIndex,
    /// What it announces.
    pub kind: JobKind,
    /// Resends so far (`notify-attempt`), or failed transport attempts before the first
    /// success.
    pub attempt: u32,
    /// Not before this time (epoch ms).
    pub due_ms: i64,
    /// Reliable delivery: delivered at least once, now waiting for the client's refresh.
    pub sent: bool,
    /// The node run that delivers it (`None`: a job stored before jobs had owners, or by a
    /// store one process uses); see [`PushClaims`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<crate::lease::Holder>,
}
