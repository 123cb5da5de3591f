//! The file-scan port: an optional check (a virus scanner, a company's own policy) every
//! upload passes before it is announced in the transcript. The engine hands the stored
//! file's bytes to the scanner once the upload is complete and durable; a rejected file is
//! deleted and the upload refused, so neither side ever sees it.
//!
//! Contract: `scan` reads the body (it may stop early once it has decided) and answers
//! within its own time bound; a scanner that fails or times out answers
//! [`ScanError`], which the engine treats as a refusal (fail closed: an unscanned file
//! is never offered for download).

use crate::ports::ByteStream;
use async_trait::async_trait;

/// What a scanner decided about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanVerdict {
    /// Nothing found: the file may be announced.
    Clean,
    /// Refused, with the scanner's reason (a signature name, a policy).
    Rejected(String),
}

/// A scanner that could not decide.
#[derive(Debug, thiserror::Error)]
#[error("file scan failed: {0}")]
pub struct ScanError(pub String);

/// Decides whether an uploaded file may be announced.
#[async_trait]
pub trait FileScanner: Send + Sync {
    /// Scans a file of `size` bytes whose content is `body`.
    async fn scan(&self, body: ByteStream<'static>, size: u64) -> Result<ScanVerdict, ScanError>;
}
