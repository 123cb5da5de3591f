//! Regression of the CometD overflow deadlock (issue [4], defect 1): a watcher whose queue
//! passes `max_queue` while its chat receives events — a long-polling client that stops
//! connecting, or a WebSocket client that stops reading — used to hang the notifier on the
//! watch lock (the overflow dropped the client, whose listener took the same lock), then
//! every CometD request, then SIGTERM. Now the watcher is dropped and everything else goes
//! on: health, new chats and other clients' operations during and after the flood; the
//! watcher is told `402::Unknown client` / handshake, re-handshakes and resumes with
//! `requestNotifications`, getting every missed index once; SIGTERM stops the server.

use crate::adv_cometd::*;
use crate::common::*;
use serde_json::{Value, json};
use std::sync::Arc;

const MAX_QUEUE: usize = 20;

/// Events large enough that a few MB of them fill the kernel's socket buffers (the
/// server's send buffer grows to `tcp_wmem`'s 4 MB maximum) before the session's queue.
const BIG: usize = 100_000;

/// How many `BIG` events surely pass the socket buffers and then `MAX_QUEUE`: twice the
/// largest send buffer the kernel may grow to (`tcp_wmem`'s maximum), plus twice the queue.
fn big_flood() -> usize {
    let wmem_max = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse::<usize>().ok())
        .unwrap_or(4 << 20);
    (2 * wmem_max).div_ceil(BIG) + 2 * MAX_QUEUE
}

fn config() -> String {
    format!(
        "[server]\nmax_body_bytes = 262144\n\n\
         [cometd]\nmax_queue = {MAX_QUEUE}\nmax_queue_bytes = 536870912\n\
         max_interval_ms = 60000\ntimeout_ms = 3000\n\n\
         [services.customer-support]\nmax_message_length = 131072\n\n\
         [services.customer-support.limits]\nmax_chat_bytes = 67108864\n\
         max_response_bytes = 8388608\n\
         requests_per_ip = {{ per_second = 0, burst = 1 }}\n\
         new_chats_per_ip = {{ per_second = 0, burst = 1 }}\n"
    )
}

/// Another CometD client, B, connecting all along and watching a REST chat of its own: its
/// events reach it only through the notifier, so seeing one proves the notifier got past
/// every event published before it.
struct Bystander {
    lp: Arc<Lp>,
    chat: Chat,
    task: tokio::task::JoinHandle<()>,
}

impl Bystander {
    async fn start(server: &Server) -> R<Self> {
        let (chat, _) = request_chat(server, &[("nickname", "Bystander")]).await?;
        let lp = Lp::start(&cometd_url(server), Vec::new()).await?;
        let task = lp.connect_forever();
        let r = lp.publish(CHANNEL, resume(&chat, 1)).await?;
        assert_eq!(r["successful"], true, "{r}");
        until("B's resume answer", 10, || {
            (indexes(&lp.notes()).first() == Some(&1)).then_some(())
        })
        .await?;
        Ok(Self { lp, chat, task })
    }

    /// A REST message on B's chat, seen by B through the notifier.
    async fn barrier(&self, text: &str) -> R {
        let (s, v) = bounded(
            "REST send",
            10,
            self.chat.call("send", &[("message", text)]),
        )
        .await?;
        assert_eq!(s, 200, "{v}");
        until(&format!("'{text}' at B through the notifier"), 15, || {
            texts(&self.lp.notes())
                .iter()
                .any(|t| t == text)
                .then_some(())
        })
        .await
    }

    /// An operation of B's own (a CometD sendMessage), answered to B.
    async fn operate(&self, text: &str) -> R {
        let data = json!({"operation": "sendMessage", "secureKey": self.chat.secure_key,
                          "chatId": self.chat.chat_id, "message": text});
        let r = bounded("B's publish", 10, self.lp.publish(CHANNEL, data)).await?;
        assert_eq!(r["successful"], true, "{r}");
        until(&format!("B's '{text}'"), 15, || {
            texts(&self.lp.notes())
                .iter()
                .any(|t| t == text)
                .then_some(())
        })
        .await
    }

    fn check_exactly_once(&self) {
        let got = indexes(&self.lp.notes());
        let last = got.last().copied().unwrap_or(0);
        assert_every_index_once(&got, 1, last);
    }
}

impl Drop for Bystander {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `requestNotifications` for a REST chat from `from`.
fn resume(chat: &Chat, from: u64) -> Value {
    json!({"operation": "requestNotifications", "secureKey": chat.secure_key,
           "chatId": chat.chat_id, "transcriptPosition": from})
}

fn texts(notes: &[Value]) -> Vec<String> {
    events(notes)
        .iter()
        .filter_map(|e| e["text"].as_str().map(str::to_owned))
        .collect()
}

/// The newest index of a REST chat.
async fn last_index(chat: &Chat) -> R<u64> {
    let (s, v) = chat
        .call("refresh", &[("transcriptPosition", "-1")])
        .await?;
    assert_eq!(s, 200, "{v}");
    v["messages"][0]["index"]
        .as_u64()
        .ok_or_else(|| format!("no newest event in {v}").into())
}

/// Floods `chat` with `n` messages of `size` bytes while checking, every few messages, that
/// health answers, a new chat can be made and B's own operations are answered.
async fn flood(server: &Server, chat: &Chat, b: &Bystander, n: usize, size: usize) -> R {
    let pad = "x".repeat(size);
    for i in 0..n {
        let text = format!("flood {i} {pad}");
        let (s, v) = bounded("REST send", 10, chat.call("send", &[("message", &text)])).await?;
        assert_eq!(s, 200, "{v}");
        if i % (n / 4).max(1) == 0 {
            bounded("health", 10, open_sessions(server)).await?;
            let (s, v) = bounded("REST request chat", 10, async {
                post_form(
                    &format!("{}/", server.gms("customer-support")),
                    &[("nickname", "n")],
                )
                .await
            })
            .await?;
            assert_eq!(s, 200, "a new chat during the flood: {v}");
            b.operate(&format!("B during {i}")).await?;
        }
    }
    Ok(())
}

/// Once the watcher was dropped: the notifier got past the flood (B sees a later event),
/// B's operations and health are still answered.
async fn others_go_on(server: &Server, b: &Bystander) -> R {
    b.barrier("after the flood").await?;
    b.operate("B after the flood").await?;
    bounded("health", 10, open_sessions(server)).await?;
    Ok(())
}

/// The resumed watcher got every index from `from` to the newest once, in order (B too),
/// and SIGTERM stops the server.
async fn finish(mut server: Server, chat: &Chat, b: &Bystander, notes: &[Value], from: u64) -> R {
    let last = last_index(chat).await?;
    assert_every_index_once(&indexes(notes), from, last);
    b.check_exactly_once();
    bounded("SIGTERM", 40, server.terminate()).await
}

/// Asserts a connect reply tells an unknown client to handshake again.
fn assert_unknown_client(c: &Value) {
    assert_eq!(c["successful"], false, "{c}");
    assert_eq!(c["error"], "402::Unknown client", "{c}");
    assert_eq!(c["advice"]["reconnect"], "handshake", "{c}");
}

#[tokio::test]
async fn a_long_polling_watcher_that_stops_connecting_overflows_without_hanging_anything() -> R {
    let server = Server::start(&config()).await?;
    let url = cometd_url(&server);
    let b = Bystander::start(&server).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Slow")]).await?;

    // W: a handshake, one connect, requestNotifications; then W never connects again.
    let w = Lp::start(&url, Vec::new()).await?;
    let r = w.publish(CHANNEL, resume(&chat, 1)).await?;
    assert_eq!(r["successful"], true, "{r}");

    flood(&server, &chat, &b, 3 * MAX_QUEUE, 10).await?;
    others_go_on(&server, &b).await?;

    // W comes back: its session was dropped. A new session resumes from the start (W was
    // never sent anything).
    assert_unknown_client(&bounded("W's connect", 10, w.connect()).await?);
    let w2 = Lp::start(&url, Vec::new()).await?;
    let task = w2.connect_forever();
    let r = w2.publish(CHANNEL, resume(&chat, 1)).await?;
    assert_eq!(r["successful"], true, "{r}");
    let last = last_index(&chat).await?;
    until("the missed events", 20, || {
        (indexes(&w2.notes()).last() == Some(&last)).then_some(())
    })
    .await?;
    let (s, v) = chat.call("send", &[("message", "live again")]).await?;
    assert_eq!(s, 200, "{v}");
    until("a live event after the resume", 20, || {
        texts(&w2.notes())
            .iter()
            .any(|t| t == "live again")
            .then_some(())
    })
    .await?;
    task.abort();
    finish(server, &chat, &b, &w2.notes(), 1).await
}

#[tokio::test]
async fn a_websocket_watcher_that_stops_reading_overflows_without_hanging_anything() -> R {
    let server = Server::start(&config()).await?;
    let b = Bystander::start(&server).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Deaf")]).await?;

    // W: a socket with a tiny receive buffer; it reads the answer to requestNotifications,
    // then stops reading (the socket stays open).
    let mut w = Ws::open_ok(&server, &Vec::new(), Some(4096)).await?;
    let h = w.handshake().await?;
    assert_eq!(h["successful"], true, "{h}");
    let r = w.publish(CHANNEL, resume(&chat, 1)).await?;
    assert_eq!(r["successful"], true, "{r}");
    w.note("the resume answer", 10, |n| n["statusCode"] == 0)
        .await?;
    let seen = indexes(&w.notes).last().copied().unwrap_or(0);

    // Large events: the socket's buffers fill, then the session's queue.
    flood(&server, &chat, &b, big_flood(), BIG).await?;
    others_go_on(&server, &b).await?;

    // W comes back on a new socket: its session was dropped.
    let old_id = w.client_id.clone();
    drop(w);
    let mut w2 = Ws::open_ok(&server, &Vec::new(), None).await?;
    w2.keep_connecting = false;
    w2.send(
        json!({"channel": "/meta/connect", "connectionType": "websocket",
                   "clientId": old_id}),
    )
    .await?;
    w2.pump("the old session's connect reply", 10, |w| {
        w.reply("/meta/connect").is_some()
    })
    .await?;
    assert_unknown_client(w2.reply("/meta/connect").unwrap_or(&Value::Null));
    // It re-handshakes and resumes after what it had read.
    w2.keep_connecting = true;
    let h = w2.handshake().await?;
    assert_eq!(h["successful"], true, "{h}");
    let r = w2.publish(CHANNEL, resume(&chat, seen + 1)).await?;
    assert_eq!(r["successful"], true, "{r}");
    let last = last_index(&chat).await?;
    w2.pump("the missed events", 20, |w| {
        indexes(&w.notes).last() == Some(&last)
    })
    .await?;
    let (s, v) = chat.call("send", &[("message", "live again")]).await?;
    assert_eq!(s, 200, "{v}");
    w2.pump("a live event after the resume", 20, |w| {
        texts(&w.notes).iter().any(|t| t == "live again")
    })
    .await?;
    finish(server, &chat, &b, &w2.notes, seen + 1).await
}
