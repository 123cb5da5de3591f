//! A customhttp receiver that misbehaves the way real ones do: it closes the connection
//! without answering, or never answers (the request times out), on half of the requests.
//! Every event is still delivered, in order, exactly once (no resend is due in the test),
//! for a payload subscription and a reliable (`GCTI_GMS_PushResend`) one. And a receiver
//! down until the chat has ended: the late pushes still say `chatEnded` as it was at their
//! event.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::push::{Receiver, accept, agent_says, config, subscribed};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Answer,
    Drop,
    Hang,
}

/// Request n (from 1): drop, hang, answer, answer, drop, hang, …
fn mode_of(n: u64) -> Mode {
    match n % 4 {
        1 => Mode::Drop,
        2 => Mode::Hang,
        _ => Mode::Answer,
    }
}

#[derive(Clone, Default)]
struct RawReceiver {
    got: Arc<Mutex<Vec<(Value, Mode)>>>,
    count: Arc<AtomicU64>,
}

/// Reads one HTTP/1.1 request (head and Content-Length body); `None` at EOF.
async fn read_request(sock: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let body = buf[end + 4..end + 4 + len].to_vec();
                buf.drain(..end + 4 + len);
                return Some(body);
            }
        }
        let mut chunk = [0u8; 4096];
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

impl RawReceiver {
    async fn start() -> R<(Self, String)> {
        let rx = RawReceiver::default();
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/push", l.local_addr()?);
        let r = rx.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = l.accept().await {
                let r = r.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    while let Some(body) = read_request(&mut sock, &mut buf).await {
                        let n = r.count.fetch_add(1, Ordering::SeqCst) + 1;
                        let mode = mode_of(n);
                        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        r.got.lock().unwrap().push((json, mode));
                        match mode {
                            Mode::Answer => {
                                let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                                if sock.write_all(ok).await.is_err() {
                                    return;
                                }
                            }
                            Mode::Drop => return,
                            Mode::Hang => {
                                tokio::time::sleep(Duration::from_secs(5)).await;
                                return;
                            }
                        }
                    }
                });
            }
        });
        Ok((rx, url))
    }

    /// Bodies answered 200 for `device`, in arrival order.
    fn delivered(&self, device: &str) -> Vec<Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(b, m)| *m == Mode::Answer && b["deviceId"] == device)
            .map(|(b, _)| b.clone())
            .collect()
    }
}

#[tokio::test]
async fn dropped_and_hanging_requests_are_retried_without_loss_or_duplicates() -> R {
    let (rx, url) = RawReceiver::start().await?;
    let cfg = format!(
        "[push]\nenabled = [\"customhttp\"]\non_join = true\nrequest_timeout_ms = 300\n\
         retry_base_ms = 20\nretry_max_ms = 100\nretry_max_tries = 100\nresend_delay_secs = 600\n\
         [push.customhttp]\nurl = \"{url}\"\n\n[[agents]]\nid = \"a1\"\nname = \"Alice\"\n\
         token = \"agent-token-1\"\ncapacity = 50\n"
    );
    let server = Server::start(&cfg).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    let mut chats = Vec::new();
    for (device, key) in [
        ("dev-pay", "userData[GCTI_GMS_PushIncludePayload]"),
        ("dev-rel", "userData[GCTI_GMS_PushResend]"),
    ] {
        let pairs = [
            ("nickname", "Pat"),
            ("userData[GCTI_Chat_PushSubscribe]", "true"),
            ("userData[GCTI_GMS_PushDeviceId]", device),
            ("userData[GCTI_GMS_PushDeviceType]", "customhttp"),
            (key, "true"),
        ];
        let chat = request_chat(&server, &pairs).await?.0;
        accept(&agent, &chat).await?;
        chats.push(chat);
    }
    for i in 0..10 {
        for chat in &chats {
            agent_says(&agent, chat, &format!("m{i}")).await?;
        }
    }
    // The agent's join (index 2) and ten messages (3..=12) for each device.
    let deadline = Instant::now() + Duration::from_secs(60);
    while rx.delivered("dev-pay").len() < 11 || rx.delivered("dev-rel").len() < 11 {
        assert!(
            Instant::now() < deadline,
            "not all delivered: {:?}",
            rx.got.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let anything extra (a duplicate) show up before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = rx.got.lock().unwrap().clone();
    let failed = got.iter().filter(|(_, m)| *m != Mode::Answer).count();
    assert!(failed >= 10, "the receiver refused {failed} requests");
    let pay: Vec<i64> = rx
        .delivered("dev-pay")
        .iter()
        .map(|b| b["message"]["messages"][0]["index"].as_i64().unwrap())
        .collect();
    assert_eq!(
        pay,
        (2..=12).collect::<Vec<_>>(),
        "payload pushes: each once, in order"
    );
    let rel = rx.delivered("dev-rel");
    assert_eq!(
        rel.len(),
        11,
        "reliable pushes: one per event, no duplicates"
    );
    let next: Vec<i64> = rel
        .iter()
        .map(|b| b["message"]["nextPosition"].as_i64().unwrap())
        .collect();
    assert!(next.windows(2).all(|w| w[0] <= w[1]), "in order: {next:?}");
    for b in &rel {
        let e = &b["message"]["messages"][0];
        assert_eq!(e["text"], "PUSH-NOTIFICATION");
        assert_eq!(e["userData"]["notify-attempt"], "0");
    }
    Ok(())
}

#[tokio::test]
async fn a_late_push_says_chat_ended_as_it_was_at_its_event() -> R {
    let (rx, url) = Receiver::start().await?;
    rx.0.down.store(true, Ordering::SeqCst);
    let server = Server::start(&config(&url, "retry_max_tries = 1000")).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    let devices = [
        ("dev-pay", "userData[GCTI_GMS_PushIncludePayload]"),
        ("dev-rel", "userData[GCTI_GMS_PushResend]"),
    ];
    for (device, key) in devices {
        let chat = subscribed(&server, device, &[(key, "true")]).await?;
        accept(&agent, &chat).await?;
        agent_says(&agent, &chat, "before the end").await?;
        let (s, v) = agent
            .post(&format!("/chats/{}/end", chat.chat_id), json!({}))
            .await?;
        assert_eq!(s, 200, "{v}");
    }
    // Everything is pushed only now, after the chat ended: the agent's join (2), its
    // message (3), and its ParticipantLeft (4), which ended the chat.
    rx.0.down.store(false, Ordering::SeqCst);
    let pay = rx.wait_for("dev-pay", 3).await?;
    let kinds: Vec<&Value> = pay
        .iter()
        .map(|p| &p["message"]["messages"][0]["type"])
        .collect();
    assert_eq!(kinds, ["ParticipantJoined", "Message", "ParticipantLeft"]);
    for pushes in [pay, rx.wait_for("dev-rel", 3).await?] {
        let ended: Vec<&Value> = pushes[..3]
            .iter()
            .map(|p| &p["message"]["chatEnded"])
            .collect();
        assert_eq!(ended, [false, false, true], "{pushes:?}");
    }
    Ok(())
}
