//! Errors of the chat engine and of its store port, in domain terms (no HTTP or SQL types).

use thiserror::Error;

/// Why a storage backend failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The backend reported a failure (disk full, I/O error, corrupt data...).
    #[error("store failure: {0}")]
    Backend(String),
    /// A stored chat cannot be read back (its header or an event does not decode): the
    /// engine quarantines it.
    #[error("corrupt chat {chat}: {why}")]
    Corrupt {
        /// The chat.
        chat: crate::ids::ChatId,
        /// What is wrong with it.
        why: String,
    },
    /// The backend is shut down or unreachable.
    #[error("store unavailable")]
    Unavailable,
    /// The chat changed since the revision the commit was computed from (another writer
    /// committed first); nothing was written.
    #[error("the chat changed meanwhile")]
    Conflict,
}

/// Why an engine operation was refused or failed.
#[derive(Debug, Error)]
pub enum CoreError {
    /// No such chat service.
    #[error("unknown chat service")]
    UnknownService,
    /// No such chat, or the credentials do not match it (deliberately indistinguishable).
    #[error("chat session not found")]
    ChatNotFound,
    /// The chat has ended; only reads are allowed.
    #[error("chat session has ended")]
    ChatEnded,
    /// Neither nickname nor first and last name given.
    #[error("nickname or first and last name required")]
    NameRequired,
    /// Last name given without first name.
    #[error("first name required")]
    FirstNameRequired,
    /// First name given without last name.
    #[error("last name required")]
    LastNameRequired,
    /// The e-mail address is not valid.
    #[error("invalid email address")]
    InvalidEmail,
    /// A text exceeds the service's limit.
    #[error("message too long (limit {max} characters)")]
    MessageTooLong {
        /// Limit in characters.
        max: usize,
    },
    /// A bound on what a chat may hold was hit (transcript events or bytes, attached data,
    /// attribute size or depth); the text says which.
    #[error("limit exceeded: {0}")]
    TooLarge(String),
    /// The client (or the whole service) is over its rate limit.
    #[error("too many requests: retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds before a retry can succeed.
        retry_after_secs: u64,
        /// The refused request would have started a chat.
        creation: bool,
    },
    /// The service cannot take new chats now (session limit reached).
    #[error("cannot start a new chat now")]
    ServiceFull,
    /// The node is not serving (draining or in maintenance).
    #[error("service unavailable")]
    Unavailable,
    /// The chat has no event at the index named (a read receipt's).
    #[error("no event at that index")]
    NoSuchEvent,
    /// A parameter is missing or malformed.
    #[error("{0}")]
    InvalidArgument(String),
    /// Unknown agent token.
    #[error("not authorized")]
    Unauthorized,
    /// The agent must log in first.
    #[error("agent is not logged in")]
    NotLoggedIn,
    /// No pending offer of that chat to this agent.
    #[error("no such offer")]
    NoSuchOffer,
    /// The agent is not a participant of that chat.
    #[error("agent is not in this chat")]
    NotInChat,
    /// A supervisor's call made by an account that is not a supervisor.
    #[error("supervisors only")]
    Forbidden,
    /// A supervisor monitoring a chat tried to act in it.
    #[error("you are monitoring this chat: take the chat over first")]
    Monitoring,
    /// A file operation was refused.
    #[error(transparent)]
    File(#[from] crate::files::FileError),
    /// A transfer was refused (its target).
    #[error(transparent)]
    Transfer(#[from] crate::roles::desk::TransferError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The OS random generator failed.
    #[error("random generator failure")]
    Random,
}
