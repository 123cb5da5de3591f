//! The directory's and relay's view of the shared connection layer (`chinwag-redis-conn`):
//! the connection opened with these options, and every call's failure mapped to a
//! [`DirectoryError`] in one place — a Redis that is down, hung or failing over makes a call
//! fail as [`DirectoryError::Unavailable`] within the deadline.

use crate::RedisOptions;
use chinwag_bayeux::cluster::DirectoryError;
use chinwag_redis_conn::{BadUrl, RedisCallError, Timeouts};
use std::future::Future;
use std::time::Duration;

pub use chinwag_redis_conn::Target;

/// The URL could not be used, or no connection could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError(pub String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

impl From<BadUrl> for ConnectError {
    fn from(e: BadUrl) -> Self {
        Self(e.0)
    }
}

/// A cheap-to-clone handle on the connection.
#[derive(Clone)]
pub(crate) struct Conn(chinwag_redis_conn::Conn);

impl Conn {
    pub(crate) async fn open(target: &Target, o: &RedisOptions) -> Result<Self, ConnectError> {
        let timeouts = Timeouts {
            connect: o.connect_timeout,
            response: o.deadline,
            overall: o.deadline,
            open: o.deadline * 2,
        };
        chinwag_redis_conn::Conn::open(target, &timeouts)
            .await
            .map(Self)
            .map_err(|e| ConnectError(e.to_string()))
    }

    /// Runs `call` on this connection under `deadline`.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        deadline: Duration,
        call: F,
    ) -> Result<T, DirectoryError>
    where
        F: FnOnce(chinwag_redis_conn::Conn) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        self.0.run(deadline, call).await.map_err(|e| match e {
            RedisCallError::Unavailable(_) => DirectoryError::Unavailable,
            RedisCallError::Failed(why) => DirectoryError::Backend(format!("redis: {why}")),
        })
    }
}
