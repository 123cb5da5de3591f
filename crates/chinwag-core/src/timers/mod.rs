//! Durable timers: one per (kind, chat), with a due time, kept in the store so they survive
//! a restart and, on a shared store, the death of the node that set them. Every node's
//! `timers` worker claims the timers that fell due; each due timer goes to exactly one
//! claimer for a while, and comes back to be claimed again if that claimer neither completes
//! nor reschedules it in time (it died, say), so nothing is dropped. Nothing is held in
//! memory per timer.
//!
//! The port ([`Timers`]) is implemented in memory ([`LocalTimers`], also shared by engines in
//! tests), by the SQLite store and by the Redis store; every implementation passes
//! `chinwag-store-conformance`'s timers suite.

mod local;

pub use local::LocalTimers;

use crate::error::StoreError;
use crate::ids::ChatId;
use crate::lease::Holder;
use async_trait::async_trait;

/// Most timers one [`Timers::claim_due`] call hands out.
pub const MAX_CLAIM: usize = 1000;

/// What a timer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKind {
    /// Ends the chat if its customer has been silent past the limit (see the engine's
    /// `lifecycle.rs`).
    Abandon,
    /// Inactivity control: alerts the silent customer, then closes the chat (see the
    /// engine's `inactivity.rs`).
    Idle,
    /// Deletes a chat's uploaded files once its retention is over (see the engine's
    /// `files/retention.rs`).
    Files,
}

impl TimerKind {
    /// The stored name: lowercase letters only.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Abandon => "abandon",
            Self::Idle => "idle",
            Self::Files => "files",
        }
    }

    /// The kind a stored name names (`None`: unknown, e.g. written by a newer version).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "abandon" => Some(Self::Abandon),
            "idle" => Some(Self::Idle),
            "files" => Some(Self::Files),
            _ => None,
        }
    }
}

/// A timer's identity: at most one timer per key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerKey {
    /// What it is for.
    pub kind: TimerKind,
    /// The chat it belongs to.
    pub chat: ChatId,
}

impl TimerKey {
    /// The key of `chat`'s `kind` timer.
    pub fn new(kind: TimerKind, chat: ChatId) -> Self {
        Self { kind, chat }
    }
}

/// One claim of a due timer: who took it, and until when it is theirs. A later claim of the
/// same timer (after this one lapsed) is another claim, and this one's
/// [`Timers::complete`] or [`Timers::reschedule`] is then refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The claimer (one run of a node).
    pub holder: Holder,
    /// When the claim lapses (epoch ms, on the claimer's clock).
    pub until_ms: i64,
}

/// A timer handed to one claimer by [`Timers::claim_due`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueTimer {
    /// Which timer.
    pub key: TimerKey,
    /// When it fell due.
    pub due_ms: i64,
    /// The claim: what completing or rescheduling it must show.
    pub claim: Claim,
}

/// What [`Timers::schedule`] does with a key that already has a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Replaces it: the new due time holds, and a claim on it is dropped (its claimer's
    /// complete or reschedule is refused).
    Replace,
    /// Leaves it as it is (claimed or not); only keys without a timer get one.
    KeepExisting,
}

/// Durable timers keyed by (kind, chat).
///
/// Contract (checked by `chinwag-store-conformance`, `timers::run_suite`):
/// - `schedule` sets one timer per key (see [`Schedule`]); `cancel` removes timers (unknown
///   keys are not an error); `due` reads a timer's due time.
/// - `claim_due(now, holder, max, claim_ms)` hands out at most `max` (and at most
///   [`MAX_CLAIM`]) timers that are due (`due_ms <= now`) and not under a live claim (one
///   whose `until_ms` is after `now`), earliest due first as far as the store can tell, each
///   with a new claim lasting until `now + claim_ms`. Of claimers racing for a timer, exactly
///   one gets it.
/// - `complete` removes a claimed timer, and `reschedule` gives it a new due time and no
///   claim, both only if its current claim is the one shown (`false` otherwise: the claim
///   lapsed and another took it, or it was rescheduled, replaced or cancelled meanwhile;
///   nothing changes).
/// - A timer whose claim lapsed is due again (with its old due time) for the next claimer.
/// - Timers are as durable as the store's commits.
#[async_trait]
pub trait Timers: Send + Sync + 'static {
    /// Sets timers, each `(key, due_ms)`; see [`Schedule`] for keys that have one.
    async fn schedule(&self, timers: &[(TimerKey, i64)], mode: Schedule) -> Result<(), StoreError>;
    /// Removes the timers of `keys` (claimed or not).
    async fn cancel(&self, keys: &[TimerKey]) -> Result<(), StoreError>;
    /// The due time of `key`'s timer (`None`: no timer).
    async fn due(&self, key: &TimerKey) -> Result<Option<i64>, StoreError>;
    /// Claims up to `max` due timers for `holder`, each for `claim_ms` (see the contract).
    async fn claim_due(
        &self,
        now_ms: i64,
        holder: &Holder,
        max: usize,
        claim_ms: i64,
    ) -> Result<Vec<DueTimer>, StoreError>;
    /// Removes `timer` if its claim is still the current one.
    async fn complete(&self, timer: &DueTimer) -> Result<bool, StoreError>;
    /// Moves `timer` to `due_ms`, unclaimed, if its claim is still the current one.
    async fn reschedule(&self, timer: &DueTimer, due_ms: i64) -> Result<bool, StoreError>;
}
