//! Integration tests: the real `chinwag` binary on loopback, driven over HTTP and WebSocket.

mod common;
mod errors;
mod full_chat;
mod push;
mod restart;
