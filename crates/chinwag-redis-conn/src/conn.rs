//! The connection, single server or cluster, and the rule every call follows: it runs under
//! a deadline and its failure comes back as a [`RedisCallError`].
//!
//! A single server goes through a `ConnectionManager` (one multiplexed socket, reconnected
//! in the background after an I/O error, with few quick retries so that recovery follows
//! Redis's return within about a second); a cluster through the cluster client (per-node
//! connections and slot map, refreshed on `MOVED`). Neither bounds every wait by itself —
//! the manager's reconnect and the cluster's retries can outlast the response timeout — so
//! [`Conn::run`] puts its own deadline around each call.

use crate::{RedisCallError, Target, Timeouts};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};
use std::future::Future;
use std::time::Duration;

/// A cheap-to-clone handle on the connection; a `ConnectionLike`, so commands, pipelines and
/// scripts run on it whichever kind it is.
#[derive(Clone)]
pub struct Conn(Kind);

#[derive(Clone)]
enum Kind {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    /// Connects to `target`, within `t.open` (past it: [`RedisCallError::Unavailable`]).
    pub async fn open(target: &Target, t: &Timeouts) -> Result<Self, RedisCallError> {
        let connect = async {
            match target {
                Target::Single(url) => {
                    let client = redis::Client::open(url.as_str())?;
                    let config = ConnectionManagerConfig::new()
                        .set_response_timeout(Some(t.response))
                        .set_connection_timeout(Some(t.connect))
                        .set_number_of_retries(2)
                        .set_min_delay(Duration::from_millis(50))
                        .set_max_delay(Duration::from_millis(500));
                    ConnectionManager::new_with_config(client, config)
                        .await
                        .map(Kind::Single)
                }
                Target::Cluster(nodes) => {
                    let client = redis::cluster::ClusterClientBuilder::new(nodes.clone())
                        .connection_timeout(t.connect)
                        .response_timeout(t.response)
                        .overall_response_timeout(Some(t.overall))
                        .retries(3)
                        .min_retry_wait(50)
                        .max_retry_wait(500)
                        .build()?;
                    client.get_async_connection().await.map(Kind::Cluster)
                }
            }
        };
        match tokio::time::timeout(t.open, connect).await {
            Ok(r) => r.map(Self).map_err(RedisCallError::from),
            Err(_) => Err(RedisCallError::Unavailable("no connection in time".into())),
        }
    }

    /// Runs `call` on (a clone of) this connection under `deadline`; a call still running
    /// then fails as [`RedisCallError::Unavailable`] (its outcome unknown).
    pub async fn run<T, F, Fut>(&self, deadline: Duration, call: F) -> Result<T, RedisCallError>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        match tokio::time::timeout(deadline, call(self.clone())).await {
            Ok(r) => r.map_err(RedisCallError::from),
            Err(_) => {
                tracing::debug!(?deadline, "redis call timed out");
                Err(RedisCallError::Unavailable(format!(
                    "no answer within {deadline:?}"
                )))
            }
        }
    }

    /// Whether this is a cluster connection.
    pub fn is_cluster(&self) -> bool {
        matches!(self.0, Kind::Cluster(_))
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.0 {
            Kind::Single(c) => c.req_packed_command(cmd),
            Kind::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.0 {
            Kind::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Kind::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.0 {
            Kind::Single(c) => c.get_db(),
            Kind::Cluster(c) => c.get_db(),
        }
    }
}
