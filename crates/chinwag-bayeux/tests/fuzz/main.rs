//! Property and fuzz tests of the Bayeux server: the message decoder, JSONP callback names
//! and framing, and the whole router in-process. Each runs `PROPTEST_CASES` cases (a few
//! hundred by default; `scripts/fuzz` runs a million). What they found is pinned in `found`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../common/mod.rs"]
mod common;
mod decoder;
mod expect;
mod found;
mod inputs;
mod jsonp;
mod kinds;
mod requests;
mod router;
#[path = "../../../../tests/fuzz/support.rs"]
mod support;
