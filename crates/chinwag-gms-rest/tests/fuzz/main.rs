//! Property and fuzz tests of the GMS REST adapter: the form parser, the commands parsed from
//! forms, and the whole router in-process over the in-memory store. Each runs
//! `PROPTEST_CASES` cases (a few hundred by default; `scripts/fuzz` runs a million). What they
//! found is pinned in `found`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod command;
mod form;
mod found;
mod requests;
mod router;
#[path = "../../../../tests/fuzz/support.rs"]
mod support;
