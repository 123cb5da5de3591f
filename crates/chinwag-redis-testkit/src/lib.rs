//! Real `redis-server` processes for tests: a single server ([`RedisServer`]) or a Redis
//! Cluster of primaries ([`RedisCluster`]), each on free loopback ports in its own temporary
//! directory, never the machine's own Redis on 6379.
//!
//! Every process is started directly (no shell in between, so the recorded PID is the
//! server's) under `setpriv --pdeathsig KILL` when util-linux has it, from one long-lived
//! spawner thread: a test process that dies takes its servers with it. Dropping a handle kills
//! its processes. Nodes can be killed and restarted on the same port and directory for
//! failure tests.
//!
//! The API is blocking (it waits for readiness with bounded polls); call it from the test's
//! own thread or `spawn_blocking`.

mod cluster;
mod resp;
mod server;
mod spawn;

pub use cluster::ClusterOptions;
pub use cluster::RedisCluster;
pub use server::{Fsync, RedisServer, ServerOptions};
