//! Safety rules for uploaded files, as pure functions: what a file's content is, judged from
//! its first bytes against the service's allowed extensions ([`magic`]), and a file name made
//! safe to store, show and offer for download ([`name`]). The bytes themselves live behind
//! the blob-store port ([`crate::ports::BlobStore`]).

pub mod magic;
pub mod name;

pub use magic::{FileKind, SNIFF_LEN, TypeRefusal, check_type, sniff};
pub use name::{MAX_NAME_BYTES, sanitize_file_name};
