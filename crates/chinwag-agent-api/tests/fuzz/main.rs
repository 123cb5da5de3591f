//! Property and fuzz tests of the agent API: the whole router in-process over the in-memory
//! store. Runs `PROPTEST_CASES` cases (a hundred or so by default; `scripts/fuzz` runs a
//! million).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod api;
mod requests;
#[path = "../../../../tests/fuzz/support.rs"]
mod support;
