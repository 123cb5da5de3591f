//! Upload scanners behind the core's [`FileScanner`](chinwag_core::ports::FileScanner)
//! port: the optional check that can refuse a file before it is announced (issue 16).
//!
//! - [`CommandScanner`] (`command.rs`) runs a local program with the file on its stdin and
//!   reads its exit status: 0 clean, 1 rejected, anything else a failure.
//! - [`ClamdScanner`] (`clamd.rs`) streams the file to a clamd daemon over its Unix or TCP
//!   socket with the `INSTREAM` command.
//!
//! Both bound the whole scan by a timeout and the output they keep by a few KiB. Anything
//! they cannot read as a clear verdict is a [`ScanError`](chinwag_core::ports::ScanError),
//! which the engine treats as a refusal (fail closed).

mod clamd;
mod command;
mod text;

pub use clamd::ClamdScanner;
pub use command::CommandScanner;
