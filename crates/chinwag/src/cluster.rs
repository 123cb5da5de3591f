//! Joining the cluster of nodes sharing a Redis store (`store.url`): this node's name and
//! address, the forwarding secret, the Redis session directory and broadcast relay, handed
//! to the Bayeux server (`chinwag_bayeux::cluster`).

use crate::config::Config;
use anyhow::Context;
use chinwag_bayeux::cluster::{Cluster, ClusterOptions, Owner};
use chinwag_cluster_redis::{RedisDirectory, RedisOptions, RedisRelay, RelayWorker};
use sha2::{Digest, Sha256};
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A node's membership and the worker relaying other nodes' broadcasts to it.
pub(crate) struct Joined {
    pub(crate) cluster: Cluster,
    pub(crate) relay: RelayWorker,
}

/// Connects the directory and relay of this node.
pub(crate) async fn join(cfg: &Config, key_file: &Path) -> anyhow::Result<Joined> {
    let options = RedisOptions {
        prefix: cfg.store.redis_prefix.clone(),
        ..RedisOptions::default()
    };
    let me = Owner {
        node: format!("{}-{}", cfg.server.node_id, incarnation()),
        addr: cfg.cluster.advertise(cfg.server.listen),
    };
    let directory = RedisDirectory::connect(&cfg.store.url, &options)
        .await
        .context("while connecting the CometD session directory to Redis")?;
    let (relay, worker) = RedisRelay::connect(&cfg.store.url, &me.node, &options)
        .await
        .context("while connecting the broadcast relay to Redis")?;
    let secret = if cfg.cluster.secret.is_empty() {
        derived_secret(key_file)?
    } else {
        cfg.cluster.secret.clone()
    };
    tracing::info!(node = %me.node, advertise = %me.addr, "cluster: CometD sessions shared through Redis");
    let options = ClusterOptions {
        me,
        mount: cfg.cometd.path.trim_end_matches('/').to_owned(),
        secret,
        lease: cfg.cluster.lease(),
        connect_timeout: Duration::from_secs(1),
    };
    let cluster = Cluster::new(Arc::new(directory), Some(Arc::new(relay)), options)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Joined {
        cluster,
        relay: worker,
    })
}

/// A name for this process's life: a restarted node is a new owner of nothing.
fn incarnation() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}", h.finish())
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
