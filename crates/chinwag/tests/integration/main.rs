//! Integration tests: the real `chinwag` binary on loopback, driven over HTTP and WebSocket.

mod adv_conncaps;
mod adv_fdlimit;
mod adv_lifecycle;
mod adv_linger;
mod adv_net;
mod adv_quarantine;
mod adv_ratelimit;
mod adv_restart_ended;
mod adv_restart_inputs;
mod adv_restart_prop;
mod adv_slowloris;
mod adv_stalled;
mod adv_transcript;
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
