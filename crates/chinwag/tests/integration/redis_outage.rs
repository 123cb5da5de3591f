//! A node whose Redis goes away answers at once with GMS's temporary failure (HTTP 503,
//! `statusCode` 1, code 503) instead of hanging or answering 500, and serves again by itself
//! once Redis is back (with AOF, the chat is still there).

use crate::common::*;
use chinwag_redis_testkit::{Fsync, RedisServer, ServerOptions};
use std::time::{Duration, Instant};

#[tokio::test]
async fn while_redis_is_down_requests_get_a_temporary_error_and_service_resumes_after() -> R {
    let mut redis = RedisServer::start_with(ServerOptions::default().with_aof(Fsync::EverySec))?;
    let config = format!("[store]\nurl = \"{}\"\n", redis.url());
    let server = Server::start(&config).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Outage")]).await?;
    let (s, v) = chat.call("send", &[("message", "before")]).await?;
    assert_eq!(s, 200, "{v}");

    redis.kill()?;
    for op in ["send", "refresh"] {
        let started = Instant::now();
        let (s, v) = chat.call(op, &[("message", "during")]).await?;
        assert_eq!(s, 503, "{op}: {v}");
        assert_eq!(v["statusCode"], 1, "{op}: a temporary failure: {v}");
        assert_eq!(v["errors"][0]["code"], 503, "{v}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{op} answered within the store's deadline, not hung"
        );
    }

    redis.restart()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let v = loop {
        let (s, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
        if s == 200 {
            break v;
        }
        assert!(Instant::now() < deadline, "service did not come back: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let texts: Vec<&str> = v["messages"]
        .as_array()
        .ok_or("no messages")?
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        ["before"],
        "the chat as it was, and nothing from the outage: {v}"
    );
    let (s, v) = chat.call("send", &[("message", "after")]).await?;
    assert_eq!(s, 200, "{v}");
    Ok(())
}
