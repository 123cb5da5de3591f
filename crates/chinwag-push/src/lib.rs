//! Push delivery: the worker that drains the durable outbox (each device in order, many
//! devices at once), the reliable-delivery resend schedule, and the providers.
//!
//! # Layout
//! - [`config`]: what the operator configures (`[push]`).
//! - [`body`]: the customhttp request bodies (payload, no payload, reliable), per GMS.
//! - [`customhttp`]: the customhttp provider (POST, optional HMAC signature).
//! - [`outcome`]: how a provider's answer is classified, and the retry backoff.
//! - [`worker`]: [`worker::PushWorker`], the named background worker.
//! - [`stats`]: counters of what was sent, failed, retried, resent and dropped.

pub mod body;
pub mod config;
pub mod customhttp;
pub mod outcome;
pub mod stats;
pub mod worker;

pub use config::{Content, CustomHttpConfig, PushConfig, RetryPolicy};
pub use stats::PushStats;
pub use worker::{Presence, PushWorker};
