//! Why a file operation was refused, in domain terms; each adapter words these for its wire
//! (GMS: errors 201, 202 and 203 with the limit as `advice`).

/// A refused file operation.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// File transfer is off for this service (or no blob store is configured).
    #[error("file transfer is not enabled")]
    Disabled,
    /// `upload-max-files` reached.
    #[error("too many files (limit {max})")]
    TooManyFiles {
        /// The limit.
        max: u32,
    },
    /// The file is larger than `upload-max-file-size`.
    #[error("file too large (limit {max} bytes)")]
    FileTooLarge {
        /// The limit, in bytes.
        max: u64,
    },
    /// The file would take the chat's uploads past `upload-max-total-size`.
    #[error("total upload size exceeded (limit {max} bytes)")]
    TotalTooLarge {
        /// The limit, in bytes.
        max: u64,
    },
    /// The content is not one of `upload-file-types` (or is a program).
    #[error("file type not allowed ({why}); allowed: {allowed}")]
    TypeNotAllowed {
        /// `upload-file-types`.
        allowed: String,
        /// What the content was found to be.
        why: String,
    },
    /// `upload-need-agent`: no agent is in the chat yet.
    #[error("files can be uploaded once an agent has joined the chat")]
    NeedAgent,
    /// No such file in this chat (never uploaded, deleted, or another chat's).
    #[error("no such file in this chat")]
    NotFound,
    /// A customer may delete only its own uploads.
    #[error("only the customer's own files can be deleted")]
    NotYours,
    /// `download-attempts` used up for this file.
    #[error("download limit reached (limit {max})")]
    DownloadsUsed {
        /// The limit.
        max: u32,
    },
    /// The scan hook refused the file.
    #[error("the file was rejected: {0}")]
    Rejected(String),
    /// The scan hook could not decide (fail closed: the file is not kept).
    #[error("the file could not be scanned; try again later")]
    ScanFailed,
    /// The upload's body ended badly (the client went away, or sent a malformed body).
    #[error("the upload did not arrive whole: {0}")]
    Body(String),
    /// A file id that cannot be one (malformed).
    #[error("malformed file id")]
    BadId,
}
