//! One service's runtime state: its settings, its count of open chats, its rate limiters,
//! and the rule that keeps a chat's transcript within the service's bounds.

use crate::error::CoreError;
use crate::event::EventKind;
use crate::session::{Change, Session};
use crate::settings::ServiceSettings;
use chinwag_limits::{AddrKey, KeyedLimiter, Limited, SharedLimiter};
use std::net::IpAddr;
use std::sync::atomic::AtomicUsize;

/// Client addresses each per-address limiter tracks at most (beyond, new addresses share
/// one bucket: see `chinwag_limits::KeyedLimiter`).
const TRACKED_ADDRESSES: usize = 100_000;

/// Per-service runtime state.
#[derive(Debug)]
pub(super) struct ServiceState {
    pub(super) settings: ServiceSettings,
    pub(super) open: AtomicUsize,
    create_ip: KeyedLimiter<AddrKey>,
    create_all: SharedLimiter,
    ops_ip: KeyedLimiter<AddrKey>,
    ops_all: SharedLimiter,
}

fn limited(l: Limited, creation: bool) -> CoreError {
    let limit = if creation { "chat_create" } else { "chat_ops" };
    metrics::counter!("chinwag_rate_limited_total", "limit" => limit).increment(1);
    CoreError::RateLimited {
        retry_after_secs: l.retry_after_secs(),
        creation,
    }
}

impl ServiceState {
    pub(super) fn new(settings: ServiceSettings) -> Self {
        let l = &settings.limits;
        Self {
            create_ip: KeyedLimiter::new(l.create_per_ip, TRACKED_ADDRESSES),
            create_all: SharedLimiter::new(l.create_per_service),
            ops_ip: KeyedLimiter::new(l.ops_per_ip, TRACKED_ADDRESSES),
            ops_all: SharedLimiter::new(l.ops_per_service),
            open: AtomicUsize::new(0),
            settings,
        }
    }

    /// Admits one request from `origin` (a client's address; `None` for the server's own
    /// calls, which are not limited): a new chat when `creation`, else an operation.
    pub(super) fn admit(&self, origin: Option<IpAddr>, creation: bool) -> Result<(), CoreError> {
        let Some(ip) = origin else { return Ok(()) };
        let (per_ip, all) = if creation {
            (&self.create_ip, &self.create_all)
        } else {
            (&self.ops_ip, &self.ops_all)
        };
        per_ip
            .check(&AddrKey::from(ip))
            .map_err(|l| limited(l, creation))?;
        all.check().map_err(|l| limited(l, creation))
    }

    /// Refuses a change that would take the transcript past the service's bounds. Changes
    /// that end the chat, or only add joins and leaves, always pass: a full chat can still
    /// be joined, left and closed.
    pub(super) fn check_growth(&self, s: &Session, change: &Change) -> Result<(), CoreError> {
        let ends = change.record.as_ref().is_some_and(|r| r.ended_ms.is_some());
        let membership = change.events.iter().all(|e| {
            matches!(
                e.kind,
                EventKind::ParticipantJoined | EventKind::ParticipantLeft
            )
        });
        if ends || membership {
            return Ok(());
        }
        let l = &self.settings.limits;
        if s.events.len() + change.events.len() > l.max_events_per_chat {
            return Err(CoreError::TooLarge(format!(
                "the chat transcript is full (at most {} events)",
                l.max_events_per_chat
            )));
        }
        let added: usize = change.events.iter().map(|e| e.wire_size()).sum();
        if s.bytes + added > l.max_chat_bytes {
            return Err(CoreError::TooLarge(format!(
                "the chat transcript is full (at most {} bytes)",
                l.max_chat_bytes
            )));
        }
        Ok(())
    }
}
