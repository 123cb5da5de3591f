//! A Redis Cluster of real processes: one directory and free port per node, `redis-cli
//! --cluster create` to assign the slots, then a wait until every node reports
//! `cluster_state:ok` (and every replica's link to its primary is up).

use crate::resp::ask;
use crate::server::{RedisServer, ServerOptions};
use crate::spawn::{command, spawn};
use std::io;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How long `redis-cli --cluster create` plus the wait for `cluster_state:ok` may take.
const FORM_TIMEOUT: Duration = Duration::from_secs(60);

/// The shape of a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Primaries (at least 3).
    pub masters: usize,
    /// Replicas of each primary.
    pub replicas: usize,
    /// How each node is started (its `dir`, if set, is the parent of one directory per node).
    pub node: ServerOptions,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            masters: 3,
            replicas: 0,
            node: ServerOptions::default(),
        }
    }
}

/// A running cluster. Dropping it kills every node.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    _temp: Option<tempfile::TempDir>,
}

impl RedisCluster {
    /// `masters` primaries, no replicas, no persistence.
    pub fn start(masters: usize) -> io::Result<Self> {
        Self::start_with(ClusterOptions {
            masters,
            ..ClusterOptions::default()
        })
    }

    /// A cluster shaped as `options` says, ready (`cluster_state:ok` everywhere).
    pub fn start_with(options: ClusterOptions) -> io::Result<Self> {
        if options.masters < 3 {
            return Err(io::Error::other(
                "a Redis Cluster needs at least 3 primaries",
            ));
        }
        let (base, temp) = match &options.node.dir {
            Some(d) => (d.clone(), None),
            None => {
                let t = tempfile::tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let total = options.masters * (1 + options.replicas);
        let mut nodes = Vec::with_capacity(total);
        for i in 0..total {
            let node = options.node.clone().in_dir(base.join(format!("node{i}")));
            nodes.push(RedisServer::start_cluster_node(node)?);
        }
        let cluster = Self { nodes, _temp: temp };
        cluster.create(options.replicas)?;
        cluster.wait_ok(FORM_TIMEOUT)?;
        Ok(cluster)
    }

    fn create(&self, replicas: usize) -> io::Result<()> {
        let mut cmd = command("redis-cli");
        cmd.arg("--cluster").arg("create");
        cmd.args(self.nodes.iter().map(RedisServer::addr));
        cmd.args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = spawn(cmd)?;
        let deadline = Instant::now() + FORM_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait()? {
                if status.success() {
                    return Ok(());
                }
                let out = child.wait_with_output()?;
                return Err(io::Error::other(format!(
                    "redis-cli --cluster create failed ({status}): {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other("redis-cli --cluster create timed out"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until every running node reports `cluster_state:ok` and every running replica's
    /// link to its primary is up.
    pub fn wait_ok(&self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let ok = self.nodes.iter().filter(|n| n.pid().is_some()).all(|n| {
                let state = ask(n.port(), &["CLUSTER", "INFO"]).unwrap_or_default();
                let repl = ask(n.port(), &["INFO", "replication"]).unwrap_or_default();
                state.contains("cluster_state:ok")
                    && (!repl.contains("role:slave") || repl.contains("master_link_status:up"))
            });
            if ok {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "cluster not ok after {timeout:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The nodes, primaries first as `redis-cli` assigned them at creation.
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// Node `i`, to kill, pause or restart it.
    pub fn node_mut(&mut self, i: usize) -> Option<&mut RedisServer> {
        self.nodes.get_mut(i)
    }

    /// `127.0.0.1:port` of every node.
    pub fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::addr).collect()
    }

    /// `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…`: the form Chinwag's `[store] url` takes.
    pub fn url(&self) -> String {
        format!("redis+cluster://{}", self.addrs().join(","))
    }
}
