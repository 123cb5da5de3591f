//! Safety rules for uploaded files, as pure functions: what a file's content is, judged from
//! its first bytes against the service's allowed extensions ([`magic`]), and a file name made
//! safe to store, show and offer for download ([`name`]); a service's limits and what a chat
//! used of them, read from its transcript ([`limits`]); and why an operation was refused
//! ([`error`]). The bytes themselves live behind the blob-store port
//! ([`crate::ports::BlobStore`]); the engine's `files` module applies these rules.

pub mod error;
pub mod limits;
pub mod magic;
pub mod name;

pub use error::FileError;
pub use limits::{FileInfo, FileSettings, FileUsage};
pub use magic::{FileKind, SNIFF_LEN, TypeRefusal, check_type, sniff};
pub use name::{MAX_NAME_BYTES, sanitize_file_name};
