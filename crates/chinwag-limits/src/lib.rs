//! Bounded rate limiting, shared by the engine (chat creation and operations), the Bayeux
//! server (handshakes) and the connection layer (per-address caps).
//!
//! # Layout
//! - [`rate`]: [`Rate`] (a sustained rate and a burst) and the GCRA arithmetic of one bucket.
//! - [`keyed`]: [`KeyedLimiter`], one bucket per key in a table of bounded size.
//! - [`addr`]: [`AddrKey`], the key of a client address (IPv6 by its /64).
//! - [`log`]: [`LogLimiter`], at most one log line per period, counting the rest.
//!
//! Nothing here allocates per request once a key is known, and nothing grows with what
//! clients send: a table that is full reuses buckets that have refilled, and new keys beyond
//! that share one overflow bucket.

pub mod addr;
pub mod keyed;
pub mod log;
pub mod rate;

pub use addr::AddrKey;
pub use keyed::KeyedLimiter;
pub use log::LogLimiter;
pub use rate::{Limited, Rate, SharedLimiter};
