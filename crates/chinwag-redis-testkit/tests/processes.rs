//! The testkit starts what it says, on the ports it says, and leaves nothing running.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_redis_testkit::{Fsync, RedisCluster, RedisServer, ServerOptions};
use std::time::Duration;

fn alive(pid: u32) -> bool {
    // A reaped process has no /proc entry; a zombie would still show, so check its state.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.split_whitespace().nth(2).is_none_or(|st| st != "Z"))
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default()
}

#[test]
fn a_single_server_runs_is_killed_restarts_and_is_gone_on_drop() {
    let mut s = RedisServer::start().unwrap();
    assert_ne!(s.port(), 6379);
    let pid = s.pid().unwrap();
    assert!(
        comm(pid).starts_with("redis-server"),
        "the PID is the server's own"
    );
    assert_eq!(s.command(&["PING"]).unwrap(), "PONG");
    s.kill().unwrap();
    assert!(!alive(pid));
    assert!(
        s.command(&["PING"]).is_err(),
        "a killed server answers nothing"
    );
    s.restart().unwrap();
    assert_eq!(s.command(&["PING"]).unwrap(), "PONG");
    let pid = s.pid().unwrap();
    drop(s);
    assert!(!alive(pid), "drop kills the server");
}

#[test]
fn aof_keeps_data_across_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions::default()
        .with_aof(Fsync::Always)
        .in_dir(dir.path());
    let mut s = RedisServer::start_with(opts).unwrap();
    assert_eq!(s.command(&["SET", "k", "v"]).unwrap(), "OK");
    s.restart().unwrap();
    assert_eq!(s.command(&["GET", "k"]).unwrap(), "v");
}

#[test]
fn a_three_master_cluster_forms_and_survives_a_node_restart() {
    let mut c = RedisCluster::start(3).unwrap();
    assert_eq!(c.nodes().len(), 3);
    assert!(c.url().starts_with("redis+cluster://127.0.0.1:"));
    let pids: Vec<u32> = c.nodes().iter().filter_map(RedisServer::pid).collect();
    assert_eq!(pids.len(), 3);
    for n in c.nodes() {
        let info = n.command(&["CLUSTER", "INFO"]).unwrap();
        assert!(info.contains("cluster_state:ok"), "{info}");
        assert!(info.contains("cluster_known_nodes:3"), "{info}");
    }
    let node = c.node_mut(1).unwrap();
    node.kill().unwrap();
    node.restart().unwrap();
    c.wait_ok(Duration::from_secs(30)).unwrap();
    let pids: Vec<u32> = c.nodes().iter().filter_map(RedisServer::pid).collect();
    drop(c);
    assert!(pids.iter().all(|p| !alive(*p)), "drop kills every node");
}

#[test]
fn a_server_that_cannot_start_says_why_at_once() {
    let opts = ServerOptions {
        extra_args: vec!["--no-such-option".into(), "1".into()],
        ..ServerOptions::default()
    };
    let e = RedisServer::start_with(opts).unwrap_err();
    assert!(e.to_string().contains("no-such-option"), "{e}");
}
