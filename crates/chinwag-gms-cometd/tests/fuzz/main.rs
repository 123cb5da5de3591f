//! Property and fuzz tests of GMS over CometD: operation parsing, and operations published
//! through the Bayeux server in-process to the chat engine over the in-memory store. Each
//! runs `PROPTEST_CASES` cases (a few hundred by default; `scripts/fuzz` runs a million).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod inputs;
mod op;
mod service;
#[path = "../../../../tests/fuzz/support.rs"]
mod support;
