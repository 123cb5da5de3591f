//! What can go wrong reading a `multipart/form-data` body, sorted by whose fault it is: the
//! request is not multipart ([`NotMultipart`]), or its body fails ([`MultipartError`]): past
//! the route's body limit, past its deadline, cut off, or malformed. Adapters map these to
//! their own wire format; the sorting is done once, here, where the body's error is seen.

use std::sync::Arc;

/// The request is not `multipart/form-data` with a usable boundary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotMultipart(pub(crate) &'static str);

/// A multipart body that could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MultipartError {
    /// The body went past the route's limit.
    #[error("request body too large")]
    TooLarge,
    /// The body did not arrive within its deadline.
    #[error("request body not received in time")]
    Timeout,
    /// The preamble or a part's header section went past the limit the parser was given.
    #[error("multipart part headers too large")]
    HeadsTooLarge,
    /// The bytes are not a multipart body (what is wrong with them).
    #[error("{0}")]
    Malformed(&'static str),
    /// The body stopped arriving for another reason (the client went away, say).
    #[error("cannot read the request body: {0}")]
    Body(Arc<axum::Error>),
}

impl MultipartError {
    /// Sorts the error of the request body.
    pub(crate) fn of_body(e: axum::Error) -> Self {
        if crate::deadline::caused_by::<http_body_util::LengthLimitError>(&e) {
            Self::TooLarge
        } else if crate::deadline::is_body_timeout(&e) {
            Self::Timeout
        } else {
            Self::Body(Arc::new(e))
        }
    }
}
