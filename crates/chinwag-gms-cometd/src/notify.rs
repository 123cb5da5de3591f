//! The `data` of a GMS CometD notification (shared with push bodies, so it lives in
//! `chinwag-gms-wire`).

pub use chinwag_gms_wire::notification::{DEPRECATED, Notification, WireError};
