//! The agents of the `failover` scenario, over the agent API: their accounts (configuration),
//! taking every chat offered until each customer has an agent, then a steady flow of agent
//! messages (every chat one message per interval, spread evenly), each acknowledged send
//! recorded by its text so that the customers' transcripts can be checked against it.

use crate::load::Conn;
use hyper::Method;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The `[[agents]]` tables for `count` agents sharing `chats` between them.
pub(crate) fn accounts(count: usize, chats: usize) -> String {
    let capacity = chats.div_ceil(count) + 1;
    (0..count)
        .map(|i| {
            format!(
                "[[agents]]\nid = \"fo{i}\"\nname = \"Failover {i}\"\ntoken = \"{}\"\n\
                 queues = [\"default\"]\ncapacity = {capacity}\n",
                token(i)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn token(i: usize) -> String {
    format!("failover-bench-agent-{i:03}")
}

/// An agent API call that must succeed; returns the parsed body (`null` when empty). A
/// `503` (routing contended: every node saves one shared state, see docs/cluster.md) is
/// tried again after 100 ms, up to 50 times.
async fn call(
    conn: &mut Conn,
    method: Method,
    path: &str,
    tok: &str,
    json: Option<&str>,
) -> anyhow::Result<Value> {
    let uri = format!("/agent/v1{path}");
    for _ in 0..50 {
        let (status, body) = conn.agent(method.clone(), &uri, tok, json).await?;
        if status == 503 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        anyhow::ensure!(
            (200..300).contains(&status),
            "{path}: HTTP {status} {}",
            String::from_utf8_lossy(&body)
        );
        return Ok(serde_json::from_slice(&body).unwrap_or(Value::Null));
    }
    anyhow::bail!("{path}: still 503 after 50 tries")
}

/// Logs `count` agents in through `addr`, makes them ready and accepts every offer until
/// `want` chats are taken (at most `within`); returns the chat ids.
pub(crate) async fn take_chats(
    addr: String,
    count: usize,
    want: usize,
    within: Duration,
) -> anyhow::Result<Vec<String>> {
    let taken = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + within;
    let mut tasks = Vec::new();
    for i in 0..count {
        let (addr, taken) = (addr.clone(), taken.clone());
        tasks.push(tokio::spawn(async move {
            let tok = token(i);
            let mut conn = Conn::open(&addr).await?;
            call(&mut conn, Method::POST, "/login", &tok, None).await?;
            let ready = Some(r#"{"ready":true}"#);
            call(&mut conn, Method::PUT, "/state", &tok, ready).await?;
            let mut mine = Vec::new();
            while taken.load(Ordering::Relaxed) < want && Instant::now() < deadline {
                let me = call(&mut conn, Method::GET, "/me", &tok, None).await?;
                let offers: Vec<String> = me["offers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|o| o["chat_id"].as_str().map(str::to_owned))
                    .collect();
                if offers.is_empty() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                for chat in offers {
                    // An offer that lapsed meanwhile is offered again: the next turn takes it.
                    let path = format!("/offers/{chat}/accept");
                    if call(&mut conn, Method::POST, &path, &tok, None)
                        .await
                        .is_ok()
                    {
                        taken.fetch_add(1, Ordering::Relaxed);
                        mine.push((i, chat));
                    }
                }
            }
            anyhow::Ok(mine)
        }));
    }
    let mut chats = Vec::new();
    for t in tasks {
        chats.extend(t.await??);
    }
    anyhow::ensure!(
        chats.len() >= want,
        "agents took {} chats of {want} within {within:?}",
        chats.len()
    );
    // Each chat's agent is the one that took it: the flow sends as that agent.
    Ok(chats.into_iter().map(|(i, c)| format!("{i} {c}")).collect())
}

/// What the agents' flow sent.
#[derive(Debug, Default)]
pub(crate) struct Sent {
    /// Texts whose send was acknowledged.
    pub(crate) acked: Vec<String>,
    /// Texts whose send failed or went unanswered (may or may not be stored).
    pub(crate) unacked: Vec<String>,
}

/// Sends one message to each of `chats` (`"<agent> <chatId>"`, from [`take_chats`]) every
/// `interval`, over `workers` connections spread over `addrs`, until `stop`.
pub(crate) async fn flow(
    addrs: &[String],
    chats: &[String],
    workers: usize,
    interval: Duration,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Sent> {
    let mut tasks = Vec::new();
    for w in 0..workers {
        let addr = addrs[w % addrs.len()].clone();
        let mine: Vec<(usize, String, String)> = (w..chats.len())
            .step_by(workers)
            .filter_map(|i| {
                let (agent, chat) = chats[i].split_once(' ')?;
                Some((i, token(agent.parse().ok()?), chat.to_owned()))
            })
            .collect();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut sent = Sent::default();
            if mine.is_empty() {
                return anyhow::Ok(sent);
            }
            let pace = interval / u32::try_from(mine.len()).unwrap_or(u32::MAX);
            let mut tick = tokio::time::interval(pace.max(Duration::from_micros(100)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut conn = Conn::open(&addr).await?;
            for round in 0.. {
                for (i, tok, chat) in &mine {
                    tick.tick().await;
                    if *stop.borrow() {
                        return Ok(sent);
                    }
                    let text = format!("m{i}.{round}");
                    let body = format!(r#"{{"text":"{text}"}}"#);
                    let path = format!("/chats/{chat}/messages");
                    match call(&mut conn, Method::POST, &path, tok, Some(&body)).await {
                        Ok(_) => sent.acked.push(text),
                        Err(_) => {
                            sent.unacked.push(text);
                            conn = Conn::open(&addr).await?;
                        }
                    }
                }
            }
            Ok(sent)
        }));
    }
    let mut all = Sent::default();
    for t in tasks {
        let s = t.await??;
        all.acked.extend(s.acked);
        all.unacked.extend(s.unacked);
    }
    Ok(all)
}
