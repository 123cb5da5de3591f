//! The session directory's conformance suite against real Redis: a single server and a
//! three-primary cluster (entries of random ids spread over every primary's slots); and the
//! directory failing fast, then recovering, when Redis is killed and restarted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_bayeux::ClientId;
use chinwag_bayeux::cluster::{DirectoryError, Lease, Owner, SessionDirectory, conformance};
use chinwag_cluster_redis::{RedisDirectory, RedisOptions};
use chinwag_redis_testkit::{RedisCluster, RedisServer};
use std::time::{Duration, Instant};

type R = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn the_directory_conforms_on_a_single_server() -> R {
    let redis = RedisServer::start()?;
    let dir = RedisDirectory::connect(&redis.url(), &RedisOptions::default()).await?;
    conformance::run(&dir).await?;
    Ok(())
}

#[tokio::test]
async fn the_directory_conforms_on_a_cluster() -> R {
    let cluster = RedisCluster::start(3)?;
    let dir = RedisDirectory::connect(&cluster.url(), &RedisOptions::default()).await?;
    conformance::run(&dir).await?;
    // Entries land on every primary (each is hash-tagged by its own id).
    let owner = Owner {
        node: "n".into(),
        addr: "http://n.invalid:1".into(),
    };
    let lease = Lease {
        lease: Duration::from_secs(30),
        keep: Duration::from_secs(30),
    };
    for i in 0..30u32 {
        let id = ClientId::new(&format!("{i:032x}"));
        dir.create(&id, &owner, false, lease).await?;
    }
    for node in cluster.nodes() {
        let n: u64 = node.command(&["DBSIZE"])?.trim().parse()?;
        assert!(n > 0, "a primary holds no entry");
    }
    Ok(())
}

#[tokio::test]
async fn a_dead_redis_fails_calls_quickly_and_a_restarted_one_serves_again() -> R {
    let mut redis = RedisServer::start()?;
    let dir = RedisDirectory::connect(&redis.url(), &RedisOptions::default()).await?;
    let id = ClientId::new(&format!("{:032x}", 7));
    redis.kill()?;
    let t = Instant::now();
    assert_eq!(dir.get(&id).await, Err(DirectoryError::Unavailable));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    redis.restart()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match dir.get(&id).await {
            Ok(None) => return Ok(()),
            r if Instant::now() > deadline => panic!("never recovered: {r:?}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
