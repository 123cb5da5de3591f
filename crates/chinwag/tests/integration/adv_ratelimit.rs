//! Request floods over the rate limits, many client addresses simulated from loopback with
//! `X-Forwarded-For` behind `trusted_proxies = ["127.0.0.1"]`: one address requesting chats
//! at ten times its rate gets HTTP 429 + `Retry-After` + GMS 240 beyond its burst while
//! another address is served; a forged `X-Forwarded-For` from an untrusted peer changes
//! nothing; the service-wide `new_chats` limit applies across addresses; operations over
//! `requests_per_ip` / `requests` get 429 + GMS 503, and a refused operation is not applied.

use crate::common::*;
use serde_json::Value;
use std::time::Duration;

/// One answer: status, `Retry-After` seconds, body.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

impl Answer {
    /// Asserts a rate-limit refusal with GMS `code`.
    fn limited(&self, code: u64) {
        assert_eq!(self.status, 429, "{}", self.body);
        assert!(
            self.retry_after.is_some_and(|s| s >= 1),
            "Retry-After {:?}",
            self.retry_after
        );
        assert_eq!(self.body["statusCode"], 2, "{}", self.body);
        assert_eq!(self.body["errors"][0]["code"], code, "{}", self.body);
    }
}

async fn post(http: &reqwest::Client, url: &str, xff: &str, form: &[(&str, &str)]) -> R<Answer> {
    let mut rb = http.post(url).form(form);
    if !xff.is_empty() {
        rb = rb.header("x-forwarded-for", xff);
    }
    let r = rb.send().await?;
    let status = r.status().as_u16();
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    Ok(Answer {
        status,
        retry_after,
        body: r.json().await?,
    })
}

/// Tokens refilled at 1 per second since `start` (at most).
fn refills(start: std::time::Instant) -> usize {
    start.elapsed().as_secs() as usize + 1
}

fn new_chat_url(server: &Server) -> String {
    format!("{}/", server.gms("customer-support"))
}

/// A chat requested as client `xff`.
async fn chat_as(server: &Server, xff: &str) -> R<Chat> {
    let a = post(&client(), &new_chat_url(server), xff, &[("nickname", "X")]).await?;
    assert_eq!(a.status, 200, "{}", a.body);
    let s = |k: &str| a.body[k].as_str().unwrap_or_default().to_owned();
    Ok(Chat {
        url: server.gms("customer-support"),
        chat_id: s("chatId"),
        user_id: s("userId"),
        secure_key: s("secureKey"),
    })
}

/// `op` on `chat` as client `xff`.
async fn op_as(chat: &Chat, xff: &str, op: &str, extra: &[(&str, &str)]) -> R<Answer> {
    let mut form = vec![
        ("userId", chat.user_id.as_str()),
        ("secureKey", chat.secure_key.as_str()),
    ];
    form.extend_from_slice(extra);
    let url = format!("{}/{}/{op}", chat.url, chat.chat_id);
    post(&client(), &url, xff, &form).await
}

fn limits(table: &str) -> String {
    format!(
        "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n\
         [services.customer-support.limits]\n{table}"
    )
}

#[tokio::test]
async fn a_flooding_address_gets_429_and_240_beyond_its_burst_while_another_is_served() -> R {
    let server = Server::start(&limits(
        "new_chats_per_ip = { per_second = 1, burst = 5 }\nnew_chats = { per_second = 0, burst = 0 }\n",
    ))
    .await?;
    let url = new_chat_url(&server);
    let http = client();
    let (mut served, mut refused) = (0, 0);
    let start = std::time::Instant::now();
    // 20 requests at 10 per second: ten times the rate, for two seconds.
    for i in 0..20 {
        let a = post(&http, &url, "203.0.113.1", &[("nickname", "Flood")]).await?;
        if a.status == 200 {
            served += 1;
        } else {
            a.limited(240);
            refused += 1;
        }
        if i % 5 == 0 {
            let b = post(&http, &url, "203.0.113.2", &[("nickname", "Calm")]).await?;
            assert_eq!(b.status, 200, "the other address is served: {}", b.body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The burst of 5, plus what refilled at 1 per second over the flood.
    assert!(
        served >= 5 && served <= 6 + refills(start) && refused > 0,
        "served {served}, refused {refused} in {:?}",
        start.elapsed()
    );
    // A forged X-Forwarded-For from an untrusted peer is ignored: 127.0.0.2 is one client.
    let forged = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()?;
    let mut outcomes = Vec::new();
    let start = std::time::Instant::now();
    for i in 0..8 {
        let xff = format!("198.51.100.{i}");
        outcomes.push(post(&forged, &url, &xff, &[("nickname", "Forger")]).await?);
    }
    let ok = outcomes.iter().filter(|a| a.status == 200).count();
    assert!(ok >= 5 && ok <= 6 + refills(start), "{ok} of 8 served");
    outcomes.last().ok_or("none")?.limited(240);
    Ok(())
}

#[tokio::test]
async fn the_service_wide_new_chat_limit_applies_across_addresses() -> R {
    let server = Server::start(&limits("new_chats = { per_second = 0.01, burst = 4 }\n")).await?;
    for i in 0..4 {
        chat_as(&server, &format!("203.0.113.{i}")).await?;
    }
    let a = post(
        &client(),
        &new_chat_url(&server),
        "203.0.113.99",
        &[("nickname", "Late")],
    )
    .await?;
    a.limited(240);
    let (_, health) = get_health(&server).await?;
    assert_eq!(health["open_sessions"], 4, "{health}");
    Ok(())
}

async fn get_health(server: &Server) -> R<(u16, Value)> {
    let r = client()
        .get(format!("{}/health", server.base))
        .send()
        .await?;
    Ok((r.status().as_u16(), r.json().await?))
}

#[tokio::test]
async fn operations_over_the_per_address_rate_get_429_and_503_and_are_not_applied() -> R {
    let server = Server::start(&limits(
        "requests_per_ip = { per_second = 1, burst = 5 }\nrequests = { per_second = 0, burst = 0 }\n",
    ))
    .await?;
    let flood = chat_as(&server, "203.0.113.1").await?;
    let calm = chat_as(&server, "203.0.113.2").await?;
    let (mut served, mut last) = (0, None);
    let start = std::time::Instant::now();
    for i in 0..20 {
        let a = op_as(&flood, "203.0.113.1", "send", &[("message", "spam")]).await?;
        if a.status == 200 {
            served += 1;
        } else {
            a.limited(503);
            last = Some(a);
        }
        if i % 5 == 0 {
            let b = op_as(&calm, "203.0.113.2", "refresh", &[]).await?;
            assert_eq!(b.status, 200, "{}", b.body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        last.is_some() && served >= 5 && served <= 6 + refills(start),
        "served {served} in {:?}",
        start.elapsed()
    );
    // Exactly the served sends are in the transcript (read as another address).
    let read = op_as(
        &flood,
        "203.0.113.3",
        "refresh",
        &[("transcriptPosition", "1")],
    )
    .await?;
    let sent = read.body["messages"]
        .as_array()
        .ok_or("no messages")?
        .iter()
        .filter(|m| m["type"] == "Message")
        .count();
    assert_eq!(sent, served);
    Ok(())
}

#[tokio::test]
async fn the_service_wide_request_limit_applies_across_addresses() -> R {
    let server = Server::start(&limits("requests = { per_second = 0.01, burst = 6 }\n")).await?;
    let mut chats = Vec::new();
    for i in 0..3 {
        chats.push(chat_as(&server, &format!("203.0.113.{i}")).await?);
    }
    for (i, chat) in chats.iter().enumerate() {
        for _ in 0..2 {
            let a = op_as(chat, &format!("203.0.113.{i}"), "refresh", &[]).await?;
            assert_eq!(a.status, 200, "{}", a.body);
        }
    }
    for (i, chat) in chats.iter().enumerate() {
        op_as(chat, &format!("198.51.100.{i}"), "refresh", &[])
            .await?
            .limited(503);
    }
    Ok(())
}
