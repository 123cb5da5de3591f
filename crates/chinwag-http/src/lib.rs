//! Chinwag's HTTP hosting, shared by every API: the accept loop ([`listen`]) with connection
//! caps in all and per address, request timeouts and lingering close ([`conn`]); request
//! bodies with a deadline ([`deadline`]); the client address behind trusted proxies
//! ([`client_ip`]); the one CORS origin policy ([`cors`]); the headers of a file download
//! ([`download`]); the `multipart/form-data` reader of uploads and forms ([`multipart`]); and
//! the request counter of `/metrics` ([`requests`]).
//!
//! Adapters depend on this crate for those pieces; it knows nothing of chat or of Bayeux (a
//! protocol that wants connections first plugs in as a [`listen::ConnectionFront`]).

pub mod client_ip;
pub mod conn;
pub mod cors;
pub mod deadline;
pub mod download;
pub mod head_limit;
pub mod listen;
pub mod multipart;
pub mod requests;
mod slots;

pub use client_ip::{Peer, TrustedProxies};
pub use conn::{Conn, Linger};
pub use cors::Origins;
pub use listen::{ConnectionFront, Outcome, Server, Settings, Timeouts};
pub use slots::ConnStats;
