//! Operations endpoints of the real binary: `/metrics` moves with a chat (counters, gauges,
//! histograms with buckets, per adapter and transport), `/health` names its workers, store
//! and node, and turns `503` naming the store when the database file is taken away under
//! the running server (and back to `200` when it is put back).

use crate::adv_cometd::{Lp, Ws, cometd_url};
use crate::common::*;
use crate::push::{Receiver, accept, agent_says, subscribed};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One scrape: every sample by its series (`name{labels}` as written), and each metric's type.
struct Scrape {
    samples: HashMap<String, f64>,
    types: HashMap<String, String>,
}

impl Scrape {
    async fn of(server: &Server) -> R<Self> {
        let r = client()
            .get(format!("{}/metrics", server.base))
            .send()
            .await?;
        assert_eq!(r.status(), 200);
        let text = r.text().await?;
        let mut samples = HashMap::new();
        let mut types = HashMap::new();
        for line in text.lines() {
            if let Some(t) = line.strip_prefix("# TYPE ") {
                let mut it = t.split(' ');
                if let (Some(name), Some(kind)) = (it.next(), it.next()) {
                    types.insert(name.to_owned(), kind.to_owned());
                }
            } else if !line.starts_with('#') && !line.is_empty() {
                let (series, value) = line.rsplit_once(' ').ok_or("bad sample line")?;
                samples.insert(series.to_owned(), value.parse()?);
            }
        }
        Ok(Self { samples, types })
    }

    /// The sample of `series`, 0 when absent (a counter never incremented).
    fn get(&self, series: &str) -> f64 {
        self.samples.get(series).copied().unwrap_or(0.0)
    }
}

async fn health(server: &Server) -> R<(u16, Value)> {
    let r = client()
        .get(format!("{}/health", server.base))
        .send()
        .await?;
    Ok((r.status().as_u16(), r.json().await?))
}

/// Polls `/health` until its status is `want`, for at most 10 s.
async fn health_becomes(server: &Server, want: u16) -> R<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = health(server).await?;
        if status == want {
            return Ok(body);
        }
        if Instant::now() > deadline {
            return Err(format!("health stayed {status}, not {want}: {body}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn metrics_follow_a_chat_through_every_adapter_and_transport() -> R {
    // One new chat per address, then refused: a rate-limit refusal to count.
    let server = Server::start(
        "[services.customer-support.limits]\nnew_chats_per_ip = { per_second = 0.01, burst = 1 }\n",
    )
    .await?;
    let agent = Agent::new(&server, "demo-agent-token");
    let (mut stream, _) =
        tokio_tungstenite::connect_async(server.ws_url("demo-agent-token")).await?;
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await?
        .ok_or("agent stream closed")??;
    agent.ready().await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Bob"), ("text", "hello")]).await?;
    accept(&agent, &chat).await?;
    agent_says(&agent, &chat, "hi Bob").await?;
    assert_eq!(chat.call("send", &[("message", "thanks")]).await?.0, 200);
    let (refused, _) = post_form(&server.gms("customer-support"), &[("nickname", "Eve")]).await?;
    assert_eq!(refused, 429);
    // A CometD session on each of two transports.
    let mut lp = Lp::new(&cometd_url(&server), Vec::new())?;
    assert_eq!(lp.try_handshake().await?["successful"], true);
    let mut ws = Ws::open_ok(&server, &Vec::new(), None).await?;
    assert_eq!(ws.handshake().await?["successful"], true);

    let during = Scrape::of(&server).await?;
    assert_eq!(during.get("chinwag_open_sessions"), 1.0);
    assert_eq!(during.get("chinwag_agent_websockets"), 1.0);
    let transport = |t: &str| format!("chinwag_bayeux_sessions{{transport=\"{t}\"}}");
    assert_eq!(during.get(&transport("long-polling")), 1.0);
    assert_eq!(during.get(&transport("websocket")), 1.0);
    assert_eq!(during.get(&transport("callback-polling")), 0.0);
    assert!(during.get("chinwag_connections_open") >= 3.0);

    assert_eq!(chat.call("disconnect", &[]).await?.0, 200);
    assert_eq!(
        client()
            .get(format!("{}/nowhere", server.base))
            .send()
            .await?
            .status(),
        404
    );
    drop(stream);
    let mut m = Scrape::of(&server).await?;
    for _ in 0..200 {
        if m.get("chinwag_agent_websockets") == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        m = Scrape::of(&server).await?;
    }
    assert_eq!(
        m.get("chinwag_agent_websockets"),
        0.0,
        "a closed stream is counted out"
    );

    assert_eq!(m.get("chinwag_chats_created_total"), 1.0);
    assert_eq!(m.get("chinwag_chats_ended_total"), 1.0);
    assert_eq!(m.get("chinwag_open_sessions"), 0.0);
    let events = |kind: &str| {
        m.get(&format!(
            "chinwag_transcript_events_total{{kind=\"{kind}\"}}"
        ))
    };
    assert_eq!(events("Message"), 3.0, "hello, hi Bob, thanks");
    assert_eq!(events("ParticipantJoined"), 2.0, "Bob and the agent");
    assert!(events("ParticipantLeft") >= 1.0);
    assert_eq!(
        m.get("chinwag_rate_limited_total{limit=\"chat_create\"}"),
        1.0
    );
    let requests = |adapter: &str, class: &str| {
        m.get(&format!(
            "chinwag_http_requests_total{{adapter=\"{adapter}\",status=\"{class}\"}}"
        ))
    };
    assert_eq!(
        requests("gms_rest", "2xx"),
        3.0,
        "request, send, disconnect"
    );
    assert_eq!(requests("gms_rest", "4xx"), 1.0, "the refused chat");
    assert!(requests("agent", "2xx") >= 4.0);
    assert_eq!(requests("agent", "1xx"), 1.0, "the event stream's upgrade");
    assert!(
        requests("bayeux", "2xx") >= 1.0,
        "long-polling, answered by the front"
    );
    assert_eq!(
        requests("bayeux", "1xx"),
        1.0,
        "the CometD WebSocket's upgrade"
    );
    assert_eq!(requests("none", "4xx"), 1.0, "no route");
    assert!(
        requests("ops", "2xx") >= 2.0,
        "the scrapes and the readiness checks"
    );
    assert_eq!(m.get("chinwag_worker_up{worker=\"routing\"}"), 1.0);
    assert_eq!(m.get("chinwag_store_up"), 1.0);

    // Store latency: real histograms (buckets, not quantiles) counting every commit.
    let h = "chinwag_store_operation_duration_seconds";
    assert_eq!(m.types.get(h).map(String::as_str), Some("histogram"));
    let bucket = |op: &str, le: &str| {
        m.samples
            .get(&format!("{h}_bucket{{op=\"{op}\",le=\"{le}\"}}"))
    };
    let commits = m.get(&format!("{h}_count{{op=\"commit\"}}"));
    assert!(
        commits >= 5.0,
        "a commit per change (create, accept, two sends, end): {commits}"
    );
    assert_eq!(bucket("commit", "+Inf"), Some(&commits));
    let (fast, slow) = (bucket("commit", "0.001"), bucket("commit", "10"));
    assert!(fast.is_some() && slow.is_some() && fast <= slow && slow <= Some(&commits));
    assert!(
        bucket("load_headers", "+Inf").is_some_and(|n| *n >= 1.0),
        "the header load at start"
    );
    assert!(
        bucket("ping", "+Inf").is_some_and(|n| *n >= 1.0),
        "the store probe"
    );
    assert!(
        !m.samples.keys().any(|k| k.contains("quantile=")),
        "no summaries"
    );

    // Each connect may change a session's transport; ending one counts it out.
    lp.send(json!({"channel": "/meta/disconnect"})).await?;
    ws.send(json!({"channel": "/meta/disconnect"})).await?;
    let mut gone = Scrape::of(&server).await?;
    for _ in 0..200 {
        if gone.get(&transport("long-polling")) + gone.get(&transport("websocket")) == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        gone = Scrape::of(&server).await?;
    }
    assert_eq!(gone.get(&transport("long-polling")), 0.0);
    assert_eq!(gone.get(&transport("websocket")), 0.0);
    Ok(())
}

#[tokio::test]
async fn push_outcomes_are_counted() -> R {
    let (rx, url) = Receiver::start().await?;
    let server = Server::start(&crate::push::config(&url, "")).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    let chat = subscribed(&server, "dev-metrics", &[]).await?;
    rx.fail_next("dev-metrics", 1);
    accept(&agent, &chat).await?;
    agent_says(&agent, &chat, "hello").await?;
    rx.wait_for("dev-metrics", 2).await?;
    let m = Scrape::of(&server).await?;
    let push = |o: &str| m.get(&format!("chinwag_pushes_total{{outcome=\"{o}\"}}"));
    assert!(push("sent") >= 2.0, "the agent's join and message");
    assert_eq!(push("failed"), 1.0);
    assert_eq!(push("retried"), 1.0);
    assert_eq!(push("dropped"), 0.0);
    assert_eq!(m.get("chinwag_worker_up{worker=\"push\"}"), 1.0);
    Ok(())
}

#[tokio::test]
async fn health_names_the_node_its_workers_and_the_store() -> R {
    let server = Server::start("[server]\nnode_id = 42\n").await?;
    let (status, h) = health(&server).await?;
    assert_eq!(status, 200, "{h}");
    assert_eq!(h["status"], "ok");
    assert_eq!(h["problems"], json!([]));
    assert_eq!(h["app_dbid"], 42);
    assert_eq!(h["node"]["id"], 42);
    assert_eq!(h["process_os_pid"], server.pid());
    assert_eq!(h["node"]["listen"], server.addr());
    assert!(
        h["node"]["hostname"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(
        h["node"]["started_ms"]
            .as_i64()
            .is_some_and(|t| t > 1_600_000_000_000)
    );
    assert_eq!(h["store"]["status"], "ok");
    assert!(h["store"]["latency_ms"].as_f64().is_some());
    let workers: Vec<(&str, &str)> = h["workers"]
        .as_array()
        .ok_or("no workers")?
        .iter()
        .filter_map(|w| Some((w["name"].as_str()?, w["state"].as_str()?)))
        .collect();
    for name in [
        "store-probe",
        "metrics-upkeep",
        "shutdown-signal",
        "routing",
        "retention",
        "lifecycle",
        "timers",
        "cometd-notify",
        "bayeux-sweep",
    ] {
        assert!(
            workers.contains(&(name, "running")),
            "{name} in {workers:?}"
        );
    }
    for field in [
        "uptime_secs",
        "open_sessions",
        "quarantined_chats",
        "connections",
    ] {
        assert!(h.get(field).is_some(), "{field} kept");
    }
    Ok(())
}

#[tokio::test]
async fn health_turns_503_naming_the_store_when_its_file_is_taken_away() -> R {
    let server = Server::start("").await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Bob")]).await?;
    let db = server.db_file();
    let aside = db.with_extension("aside");
    std::fs::rename(&db, &aside)?;
    let h = health_becomes(&server, 503).await?;
    assert_eq!(h["status"], "failing");
    assert_eq!(h["store"]["status"], "error");
    let problems = h["problems"].as_array().ok_or("no problems")?;
    assert_eq!(problems.len(), 1, "{h}");
    let problem = problems[0].as_str().unwrap_or_default();
    assert!(
        problem.starts_with("store error") && problem.contains("is gone"),
        "{problem}"
    );
    // Same body fields as when healthy: a balancer or an operator reads one shape.
    assert!(h["workers"].as_array().is_some_and(|w| !w.is_empty()));
    assert_eq!(h["app_dbid"], 1);
    let m = Scrape::of(&server).await?;
    assert_eq!(m.get("chinwag_store_up"), 0.0);
    assert!(m.get("chinwag_store_errors_total{op=\"ping\"}") >= 1.0);

    // Put back, the node is healthy again by itself, and the chat goes on.
    std::fs::rename(&aside, &db)?;
    let h = health_becomes(&server, 200).await?;
    assert_eq!(h["store"]["status"], "ok");
    assert_eq!(
        chat.call("send", &[("message", "still here")]).await?.0,
        200
    );
    Ok(())
}
