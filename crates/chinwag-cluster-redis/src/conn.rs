//! The connection to Redis (one server through a reconnecting manager, or a cluster through
//! the cluster client) and the deadline around every call: a Redis that is down or hung
//! makes a call fail as [`DirectoryError::Unavailable`] within the deadline.

use crate::RedisOptions;
use chinwag_bayeux::cluster::DirectoryError;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use std::future::Future;
use std::time::Duration;

/// Where to connect: `redis://…` (one server) or `redis+cluster://h:p,h:p…` (seed nodes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One server.
    Single(String),
    /// A cluster, from its seed nodes (each a `redis://` URL).
    Cluster(Vec<String>),
}

/// The URL could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError(pub String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

impl Target {
    /// Parses the store URL form (credentials before `@` apply to every seed node).
    pub fn parse(url: &str) -> Result<Self, ConnectError> {
        if let Some(rest) = url.strip_prefix("redis+cluster://") {
            let (auth, hosts) = match rest.rsplit_once('@') {
                Some((a, h)) => (format!("{a}@"), h),
                None => (String::new(), rest),
            };
            let nodes: Vec<String> = hosts
                .trim_end_matches('/')
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(|h| format!("redis://{auth}{h}"))
                .collect();
            if nodes.is_empty() {
                return Err(ConnectError("redis+cluster:// names no node".into()));
            }
            return Ok(Self::Cluster(nodes));
        }
        if ["redis://", "redis+unix://", "unix://"]
            .iter()
            .any(|s| url.starts_with(s))
        {
            return Ok(Self::Single(url.to_owned()));
        }
        Err(ConnectError(
            "expected redis://host:port or redis+cluster://host:port[,host:port…]".into(),
        ))
    }

    /// The URLs a plain (pub/sub) connection may use, in order.
    pub(crate) fn servers(&self) -> Vec<String> {
        match self {
            Self::Single(u) => vec![u.clone()],
            Self::Cluster(nodes) => nodes.clone(),
        }
    }
}

/// A cheap-to-clone handle on the connection.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    pub(crate) async fn open(target: &Target, o: &RedisOptions) -> Result<Self, ConnectError> {
        let err = |e: redis::RedisError| ConnectError(format!("redis: {e}"));
        let connect = async {
            match target {
                Target::Single(url) => {
                    let client = redis::Client::open(url.as_str()).map_err(err)?;
                    let config = ConnectionManagerConfig::new()
                        .set_response_timeout(Some(o.deadline))
                        .set_connection_timeout(Some(o.connect_timeout))
                        .set_number_of_retries(2)
                        .set_min_delay(Duration::from_millis(50))
                        .set_max_delay(Duration::from_millis(500));
                    ConnectionManager::new_with_config(client, config)
                        .await
                        .map(Conn::Single)
                        .map_err(err)
                }
                Target::Cluster(nodes) => {
                    let client = redis::cluster::ClusterClientBuilder::new(nodes.clone())
                        .connection_timeout(o.connect_timeout)
                        .response_timeout(o.deadline)
                        .overall_response_timeout(Some(o.deadline))
                        .retries(3)
                        .min_retry_wait(50)
                        .max_retry_wait(500)
                        .build()
                        .map_err(err)?;
                    client
                        .get_async_connection()
                        .await
                        .map(Conn::Cluster)
                        .map_err(err)
                }
            }
        };
        match tokio::time::timeout(o.deadline * 2, connect).await {
            Ok(r) => r,
            Err(_) => Err(ConnectError("redis: no connection in time".into())),
        }
    }

    /// Runs `call` on this connection under `deadline`.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        deadline: Duration,
        call: F,
    ) -> Result<T, DirectoryError>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(deadline, call(self.clone())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() => {
                tracing::debug!(%e, "redis unavailable");
                Err(DirectoryError::Unavailable)
            }
            Ok(Err(e)) => Err(DirectoryError::Backend(format!("redis: {e}"))),
            Err(_) => Err(DirectoryError::Unavailable),
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn urls_parse() {
        assert_eq!(
            Target::parse("redis+cluster://u:p@a:1, b:2").ok(),
            Some(Target::Cluster(vec![
                "redis://u:p@a:1".into(),
                "redis://u:p@b:2".into()
            ]))
        );
        assert!(Target::parse("redis://x:1").is_ok());
        assert!(Target::parse("http://x").is_err());
        assert!(Target::parse("redis+cluster://").is_err());
    }
}
