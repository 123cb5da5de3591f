//! What a Redis call can end in, besides its value: [`RedisCallError`], and the one rule that
//! sorts a `RedisError` into it.

use redis::{ErrorKind, RedisError, ServerErrorKind};

/// A Redis call (or opening the connection) that did not give its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedisCallError {
    /// Redis is unreachable, timed out, loading, failing over or redirecting: a retry later
    /// can succeed (the outcome of a write that timed out is unknown).
    #[error("redis unavailable: {0}")]
    Unavailable(String),
    /// Any other failure (a script error, a wrong type, a refused command, a bad URL).
    #[error("redis: {0}")]
    Failed(String),
}

impl From<RedisError> for RedisCallError {
    /// Redis's failure sorted: what a retry later can cure is `Unavailable`.
    fn from(e: RedisError) -> Self {
        let temporary = e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || matches!(
                e.kind(),
                ErrorKind::ClusterConnectionNotFound
                    | ErrorKind::Server(
                        ServerErrorKind::BusyLoading
                            | ServerErrorKind::TryAgain
                            | ServerErrorKind::ClusterDown
                            | ServerErrorKind::MasterDown
                            | ServerErrorKind::ReadOnly
                            | ServerErrorKind::Moved
                            | ServerErrorKind::Ask
                    )
            )
            || e.code() == Some("BUSY");
        if temporary {
            tracing::debug!(%e, "redis unavailable");
            Self::Unavailable(e.to_string())
        } else {
            Self::Failed(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RedisCallError;
    use redis::{ErrorKind, RedisError};

    #[test]
    fn io_errors_are_unavailable_and_others_failed() {
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(matches!(
            RedisCallError::from(io),
            RedisCallError::Unavailable(_)
        ));
        let typed = RedisError::from((ErrorKind::UnexpectedReturnType, "not a number"));
        assert!(matches!(
            RedisCallError::from(typed),
            RedisCallError::Failed(_)
        ));
    }
}
