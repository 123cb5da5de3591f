//! The connection to Redis, single server or cluster, and the rule every call follows: it
//! runs under the store's deadline and its failure is mapped to a [`StoreError`]
//! (unreachable, timed out, loading, failing over: [`StoreError::Unavailable`]).
//!
//! A single server goes through a `ConnectionManager` (one multiplexed socket, reconnected
//! in the background after an I/O error, with few quick retries so that recovery follows
//! Redis's return within about a second); a cluster through the cluster client (per-node
//! connections and slot map, refreshed on `MOVED`). Neither bounds every wait by itself —
//! the manager's reconnect and the cluster's retries can outlast the response timeout — so
//! [`Conn::run`] puts its own deadline around each call.

use crate::RedisOptions;
use chinwag_core::StoreError;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, ServerErrorKind, Value};
use std::future::Future;
use std::time::Duration;

/// Where the store connects: parsed from `redis://…` or `redis+cluster://h:p,h:p…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One server (`redis://`, `redis+unix://`, `unix://` URLs).
    Single(String),
    /// A cluster, from one or more seed nodes (each a `redis://` URL).
    Cluster(Vec<String>),
}

impl Target {
    /// Parses a store URL. `redis+cluster://[user:pass@]h1:p1[,h2:p2…]` names cluster seed
    /// nodes (the credentials apply to each).
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let bad = |why: &str| StoreError::Backend(format!("store url: {why}"));
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
                return Err(bad("redis+cluster:// names no node"));
            }
            return Ok(Self::Cluster(nodes));
        }
        if ["redis://", "redis+unix://", "unix://"]
            .iter()
            .any(|s| url.starts_with(s))
        {
            return Ok(Self::Single(url.to_owned()));
        }
        Err(bad(
            "expected redis://host:port or redis+cluster://host:port[,host:port…]",
        ))
    }
}

/// A cheap-to-clone handle on the connection.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    pub(crate) async fn open(target: &Target, o: &RedisOptions) -> Result<Self, StoreError> {
        let connect = async {
            match target {
                Target::Single(url) => {
                    let client = redis::Client::open(url.as_str())?;
                    let config = ConnectionManagerConfig::new()
                        .set_response_timeout(Some(o.response_timeout))
                        .set_connection_timeout(Some(o.connect_timeout))
                        .set_number_of_retries(2)
                        .set_min_delay(Duration::from_millis(50))
                        .set_max_delay(Duration::from_millis(500));
                    ConnectionManager::new_with_config(client, config)
                        .await
                        .map(Conn::Single)
                }
                Target::Cluster(nodes) => {
                    let client = redis::cluster::ClusterClientBuilder::new(nodes.clone())
                        .connection_timeout(o.connect_timeout)
                        .response_timeout(o.response_timeout)
                        .overall_response_timeout(Some(o.deadline))
                        .retries(3)
                        .min_retry_wait(50)
                        .max_retry_wait(500)
                        .build()?;
                    client.get_async_connection().await.map(Conn::Cluster)
                }
            }
        };
        match tokio::time::timeout(o.deadline, connect).await {
            Ok(r) => r.map_err(store_error),
            Err(_) => Err(StoreError::Unavailable),
        }
    }

    /// Runs `call` on this connection under `deadline`.
    pub(crate) async fn run<T, F, Fut>(&self, deadline: Duration, call: F) -> Result<T, StoreError>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(deadline, call(self.clone())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(store_error(e)),
            Err(_) => {
                tracing::debug!(?deadline, "redis call timed out");
                Err(StoreError::Unavailable)
            }
        }
    }

    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Conn::Cluster(_))
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

/// Redis's failure in the store's terms: what a retry later can cure is `Unavailable`.
pub(crate) fn store_error(e: RedisError) -> StoreError {
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
        StoreError::Unavailable
    } else {
        StoreError::Backend(format!("redis: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn urls_parse() {
        assert_eq!(
            Target::parse("redis://127.0.0.1:7000").ok(),
            Some(Target::Single("redis://127.0.0.1:7000".into()))
        );
        assert_eq!(
            Target::parse("redis+cluster://a:1, b:2,").ok(),
            Some(Target::Cluster(vec![
                "redis://a:1".into(),
                "redis://b:2".into()
            ]))
        );
        assert_eq!(
            Target::parse("redis+cluster://u:p@w@a:1,b:2").ok(),
            Some(Target::Cluster(vec![
                "redis://u:p@w@a:1".into(),
                "redis://u:p@w@b:2".into()
            ]))
        );
        assert!(Target::parse("redis+cluster://").is_err());
        assert!(Target::parse("http://x").is_err());
        assert!(Target::parse("sqlite://x").is_err());
    }
}
