//! Push delivery: the worker that drains the durable outbox (each device in order, many
//! devices at once), the reliable-delivery resend schedule, and the providers.
//!
//! # Layout
//! - [`config`]: what the operator configures (`[push]`).
//! - [`body`]: the customhttp request bodies (payload, no payload, reliable), per GMS.
//! - [`customhttp`]: the customhttp provider (POST, optional HMAC signature).
//! - [`fcm`]: the FCM HTTP v1 provider (service-account OAuth2 token, `messages:send`).
//! - [`apns`]: the APNs HTTP/2 provider (ES256 provider token).
//! - [`template`]: notification titles and bodies per event type for FCM and APNs.
//! - [`token`]: a provider's cached bearer token.
//! - [`error`]: setup errors.
//! - `finisher`: deletes finished jobs from the outbox in batches.
//! - [`outcome`]: how a provider's answer is classified, and the retry backoff.
//! - [`worker`]: [`worker::PushWorker`], the named background worker, and one attempt.
//! - `sched`: the worker's schedule (device queues, retry/re-check/resend timers, drain).
//! - [`stats`]: counters of what was sent, failed, retried, resent and dropped.

pub mod apns;
pub mod body;
mod channels;
pub mod config;
pub mod customhttp;
mod elsewhere;
pub mod error;
pub mod fcm;
mod finisher;
pub mod outcome;
mod sched;
pub mod stats;
mod takeover;
pub mod template;
pub mod token;
pub mod worker;

pub use config::{Content, CustomHttpConfig, ProviderConfig, PushConfig, RetryPolicy};
pub use error::PushError;
pub use stats::PushStats;
pub use worker::{Presence, PushWorker};
