//! Integration tests: the real `chinwag` binary on loopback, driven over HTTP and WebSocket.

mod adv_cometd;
mod adv_cometd_access;
mod adv_cometd_floods;
mod adv_cometd_overflow;
mod adv_cometd_transcript;
mod agent_api;
mod backup;
mod common;
mod cors;
mod errors;
mod fakes;
mod full_chat;
mod push;
mod push_faults;
mod push_mobile;
mod push_presence;
mod push_shutdown;
mod restart;
