//! Integration tests: the real `chinwag` binary on loopback, driven over HTTP and WebSocket.

mod agent_api;
mod common;
mod errors;
mod fakes;
mod full_chat;
mod push;
mod push_faults;
mod push_mobile;
mod restart;
