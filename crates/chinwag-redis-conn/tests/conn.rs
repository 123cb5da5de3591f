//! The connection layer against real `redis-server`s: calls on a single server and on a
//! cluster, a failed command kept apart from an unreachable Redis, a hung or dead server
//! failing the call within its deadline, and the connection recovering by itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chinwag_redis_conn::{Conn, RedisCallError, Target, Timeouts};
use chinwag_redis_testkit::{RedisCluster, RedisServer};
use std::time::Duration;

type R = Result<(), Box<dyn std::error::Error>>;

const DEADLINE: Duration = Duration::from_millis(800);

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_millis(300),
        response: Duration::from_millis(500),
        overall: DEADLINE,
        open: DEADLINE,
    }
}

async fn set_get(conn: &Conn, key: &str) -> Result<String, RedisCallError> {
    let (k, v) = (key.to_owned(), format!("v-{key}"));
    conn.run(DEADLINE, |mut c| async move {
        redis::cmd("SET")
            .arg(&k)
            .arg(&v)
            .query_async::<()>(&mut c)
            .await?;
        redis::cmd("GET").arg(&k).query_async(&mut c).await
    })
    .await
}

#[tokio::test]
async fn a_single_server_answers_and_a_failed_command_is_not_unavailable() -> R {
    let redis = RedisServer::start()?;
    let conn = Conn::open(&Target::parse(&redis.url())?, &timeouts()).await?;
    assert!(!conn.is_cluster());
    assert_eq!(set_get(&conn, "a").await?, "v-a");
    let wrong = conn
        .run(DEADLINE, |mut c| async move {
            redis::cmd("INCR").arg("a").query_async::<i64>(&mut c).await
        })
        .await;
    assert!(matches!(wrong, Err(RedisCallError::Failed(_))), "{wrong:?}");
    Ok(())
}

#[tokio::test]
async fn a_hung_or_dead_server_is_unavailable_and_the_connection_recovers() -> R {
    let mut redis = RedisServer::start()?;
    let conn = Conn::open(&Target::parse(&redis.url())?, &timeouts()).await?;
    assert_eq!(set_get(&conn, "b").await?, "v-b");

    redis.pause()?;
    let hung = set_get(&conn, "b").await;
    redis.resume()?;
    assert!(
        matches!(hung, Err(RedisCallError::Unavailable(_))),
        "{hung:?}"
    );

    redis.kill()?;
    let dead = set_get(&conn, "b").await;
    assert!(
        matches!(dead, Err(RedisCallError::Unavailable(_))),
        "{dead:?}"
    );

    redis.restart()?;
    let mut back = set_get(&conn, "b").await;
    for _ in 0..50 {
        if back.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        back = set_get(&conn, "b").await;
    }
    assert_eq!(back?, "v-b");
    Ok(())
}

#[tokio::test]
async fn opening_a_closed_port_is_unavailable() -> R {
    let mut redis = RedisServer::start()?;
    let url = redis.url();
    redis.kill()?;
    let opened = Conn::open(&Target::parse(&url)?, &timeouts()).await;
    assert!(matches!(opened, Err(RedisCallError::Unavailable(_))));
    Ok(())
}

#[tokio::test]
async fn a_cluster_answers_for_keys_on_every_primary() -> R {
    let cluster = RedisCluster::start(3)?;
    let target = Target::parse(&cluster.url())?;
    assert_eq!(target.servers().len(), 3);
    let conn = Conn::open(&target, &timeouts()).await?;
    assert!(conn.is_cluster());
    for i in 0..20 {
        let key = format!("k{i}");
        assert_eq!(set_get(&conn, &key).await?, format!("v-{key}"));
    }
    Ok(())
}
