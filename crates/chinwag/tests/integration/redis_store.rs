//! The binary on Redis (`[store] url`): a chat created and written over REST is read back
//! after the binary is killed and restarted, from a single Redis and from a three-master
//! Redis Cluster, and nothing is written to the SQLite database; two binaries on one Redis
//! serve the same chat.

use crate::common::*;
use chinwag_redis_testkit::{RedisCluster, RedisServer};

async fn chat_survives_a_restart_on(url: &str) -> R {
    let config = format!("[store]\nurl = \"{url}\"\n");
    let server = Server::start(&config).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Redis")]).await?;
    for i in 0..3 {
        let (s, v) = chat.call("send", &[("message", &format!("m{i}"))]).await?;
        assert_eq!(s, 200, "{v}");
    }
    let (_, before) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    let texts = |v: &serde_json::Value| -> Vec<String> {
        v["messages"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m["text"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(texts(&before), ["m0", "m1", "m2"], "{before}");

    let server = server.restart().await?;
    let (s, after) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(s, 200, "{after}");
    assert_eq!(
        after["messages"], before["messages"],
        "the same events after a restart, read from Redis"
    );
    let (s, v) = chat.call("send", &[("message", "after")]).await?;
    assert_eq!(s, 200, "{v}");
    assert!(
        !server.db_file().exists(),
        "with store.url set, no SQLite database is created"
    );
    Ok(())
}

#[tokio::test]
async fn a_chat_on_a_single_redis_survives_a_restart_of_the_binary() -> R {
    let redis = RedisServer::start()?;
    chat_survives_a_restart_on(&redis.url()).await
}

#[tokio::test]
async fn a_chat_on_a_redis_cluster_survives_a_restart_of_the_binary() -> R {
    let cluster = RedisCluster::start(3)?;
    chat_survives_a_restart_on(&cluster.url()).await
}

#[tokio::test]
async fn two_binaries_on_one_redis_serve_the_same_chat() -> R {
    let redis = RedisServer::start()?;
    let config = format!("[store]\nurl = \"{}\"\n", redis.url());
    let a = Server::start(&config).await?;
    let b = Server::start(&config).await?;
    let (on_a, _) = request_chat(&a, &[("nickname", "Both")]).await?;
    let on_b = Chat {
        url: b.gms("customer-support"),
        ..on_a.clone()
    };
    let (s, v) = on_a.call("send", &[("message", "via a")]).await?;
    assert_eq!(s, 200, "{v}");
    let (s, v) = on_b.call("send", &[("message", "via b")]).await?;
    assert_eq!(s, 200, "{v}");
    for chat in [&on_a, &on_b] {
        let (s, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
        assert_eq!(s, 200, "{v}");
        let texts: Vec<&str> = v["messages"]
            .as_array()
            .ok_or("no messages")?
            .iter()
            .filter_map(|m| m["text"].as_str())
            .collect();
        assert_eq!(texts, ["via a", "via b"], "{v}");
    }
    Ok(())
}

#[tokio::test]
async fn an_unreachable_redis_stops_the_start_with_a_reason() -> R {
    let mut redis = RedisServer::start()?;
    let url = redis.url();
    redis.kill()?;
    let dir = tempfile::tempdir()?;
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, format!("[store]\nurl = \"{url}\"\n"))?;
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_chinwag"))
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(dir.path().join("d"))
            .arg("--config")
            .arg(&cfg)
            .env_remove("CHINWAG_CONFIG")
            .output(),
    )
    .await??;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Redis store"), "{err}");
    Ok(())
}
