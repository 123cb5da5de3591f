//! The Lua scripts (in `lua/`), loaded by SHA and re-sent after `NOSCRIPT` (a restarted or
//! failed-over Redis forgets them): `Script::invoke_async` does that fallback.

use redis::Script;
use std::sync::LazyLock;

/// One chat's commit: checks, then header, revision, events, push jobs.
pub(crate) static COMMIT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/commit.lua")));
/// Chats read whole (header, revision, events), several at once.
pub(crate) static LOAD: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/load.lua")));
/// Chats' headers alone (no events), several at once.
pub(crate) static HEADERS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/headers.lua")));
/// Ended chats deleted with their index entries.
pub(crate) static PURGE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/purge.lua")));
/// Outbox writes outside a commit.
pub(crate) static OUTBOX: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/outbox.lua")));
/// When customers were last seen, for chats of one partition.
pub(crate) static SEEN: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/seen.lua")));
/// Leases: acquire, renew, release (holder checked, fence counted).
pub(crate) static LEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/lease.lua")));
/// A block of push seqs from the shared counter.
pub(crate) static RESERVE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/reserve.lua")));
/// The shared routing state's compare-and-set save, with its announcement.
pub(crate) static ROUTING_SAVE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/routing_save.lua")));
/// The chats' timers of one partition: set, cancel, claim, complete, reschedule.
pub(crate) static TIMERS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/timers.lua")));
