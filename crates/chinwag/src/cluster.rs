//! Joining the cluster of nodes sharing a Redis store (`store.url`): this node's address,
//! the forwarding secret, the Redis session directory and broadcast relay, and the node
//! lease as the cluster's liveness (a session's owner is alive while its node lease is),
//! handed to the Bayeux server (`chinwag_bayeux::cluster`).

use crate::config::Config;
use anyhow::Context;
use chinwag_bayeux::cluster::{Cluster, ClusterOptions, DirectoryError, Liveness};
use chinwag_cluster_redis::{RedisDirectory, RedisOptions, RedisRelay, RelayWorker};
use chinwag_core::lease::{Holder, NodeLease};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A node's membership and the worker relaying other nodes' broadcasts to it.
pub(crate) struct Joined {
    pub(crate) cluster: Cluster,
    pub(crate) relay: RelayWorker,
}

/// Connects the directory and relay of this node, whose run holds `node_lease`.
pub(crate) async fn join(
    cfg: &Config,
    key_file: &Path,
    node_lease: Arc<NodeLease>,
) -> anyhow::Result<Joined> {
    let options = RedisOptions {
        prefix: cfg.store.redis_prefix.clone(),
        ..RedisOptions::default()
    };
    let addr = cfg.cluster.advertise(cfg.server.listen);
    let name = node_lease.holder().as_str().to_owned();
    let directory = RedisDirectory::connect(&cfg.store.url, &options)
        .await
        .context("while connecting the CometD session directory to Redis")?;
    let (relay, worker) = RedisRelay::connect(&cfg.store.url, &name, &options)
        .await
        .context("while connecting the broadcast relay to Redis")?;
    let secret = if cfg.cluster.secret.is_empty() {
        derived_secret(key_file)?
    } else {
        cfg.cluster.secret.clone()
    };
    tracing::info!(node = %name, advertise = %addr, "cluster: CometD sessions shared through Redis");
    let ttl = node_lease.ttl();
    let options = ClusterOptions {
        addr,
        mount: cfg.cometd.path.trim_end_matches('/').to_owned(),
        secret,
        lease: cfg
            .cluster
            .lease(ttl, Duration::from_millis(cfg.cometd.max_interval_ms)),
        connect_timeout: Duration::from_secs(1),
        owner_wait: ttl + Duration::from_secs(1),
    };
    let liveness = Arc::new(NodeLiveness(node_lease));
    // Shown from the start (0), not from the first take-over.
    metrics::counter!("chinwag_bayeux_takeovers_total").increment(0);
    let cluster = Cluster::new(
        Arc::new(directory),
        liveness,
        Some(Arc::new(relay)),
        options,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Joined {
        cluster,
        relay: worker,
    })
}

/// The node leases as the cluster's liveness: a node's name is its run's lease holder
/// (a new one if its lease was lost), alive while `node/<holder>` is held.
struct NodeLiveness(Arc<NodeLease>);

#[async_trait::async_trait]
impl Liveness for NodeLiveness {
    fn me(&self) -> String {
        self.0.holder().as_str().to_owned()
    }

    async fn alive(&self, node: &str) -> Result<bool, DirectoryError> {
        // A name that is no holder (an entry of an older version) has no lease: dead.
        let Some(holder) = Holder::parse(node) else {
            return Ok(false);
        };
        match self.0.leases().holder(&holder.liveness()).await {
            Ok(held) => Ok(held.is_some_and(|(h, _)| h == holder)),
            Err(e) => Err(DirectoryError::Backend(format!("node lease: {e}"))),
        }
    }
}

/// The forwarding secret derived from the CometD key file every node shares.
fn derived_secret(key_file: &Path) -> anyhow::Result<String> {
    let text = std::fs::read(key_file)
        .with_context(|| format!("while reading CometD key file {}", key_file.display()))?;
    let mut h = Sha256::new();
    h.update(b"chinwag bayeux forward\n");
    h.update(&text);
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
