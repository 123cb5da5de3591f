//! A general Bayeux 1.0 server (the CometD protocol) on axum, usable without any chat
//! knowledge.
//!
//! # Layout
//! - [`config`]: advice timings, limits, cookie and CORS settings; [`config::Transport`].
//! - `context`: a request's client address, `Origin` and forwarded headers; the origin rule.
//! - [`channel`]: channel names, meta/service/broadcast, trailing `*`/`**` globs.
//! - [`message`]: parsed client messages (raw `data`), replies, error strings.
//! - [`session`]: one client: its queue, ack batches, held-connect state.
//! - `registry`: sessions, subscriptions, held connects per browser; `counts`: sessions per
//!   transport.
//! - `process`: the transport-free protocol engine (handshake, connect, subscribe, publish…).
//! - [`ext`]: the `ack` and `timesync` extensions.
//! - [`hooks`]: what an application plugs in (service handlers, authorizer, extensions,
//!   listeners).
//! - `http`, `ws`, [`jsonp`]: the three transports on one router.
//! - [`front`]: the lean long-polling front that holds connects without HTTP buffers (a
//!   connection front for `chinwag-http`'s accept loop).
//! - [`sweep`]: the background worker ending idle sessions.
//! - [`server`]: [`BayeuxServer`], the API an application uses.
//! - [`cluster`]: several servers as one: the session directory and broadcast relay ports,
//!   forwarding to a session's owner, take-over of a dead owner's sessions.

pub mod channel;
pub mod cluster;
pub mod config;
mod context;
mod counts;
pub mod ext;
pub mod front;
pub mod hooks;
mod http;
pub mod jsonp;
pub mod message;
mod process;
mod registry;
pub mod server;
pub mod session;
pub mod sweep;
mod ws;

pub use config::{BayeuxConfig, CookieConfig, Transport};
pub use hooks::{Authorizer, Denied, Extension, ServiceCall, ServiceHandler, SessionListener};
pub use server::{BayeuxServer, Builder, DeliverError};
pub use session::{ClientId, Removal};
pub use sweep::SweepWorker;
