//! A long transcript over CometD: with a small answer budget (`max_response_bytes`), a new
//! client's `requestNotifications` from position 1 gets every event exactly once, in order,
//! across several notifications — on long-polling and WebSocket, and while the chat keeps
//! receiving events during the paging.

use crate::adv_cometd::*;
use crate::common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::task::JoinHandle;

const BUDGET: usize = 16384;
const EVENTS: u64 = 200;

fn config() -> String {
    format!(
        "[services.customer-support.limits]\nmax_events_per_chat = 5000\n\
         max_response_bytes = {BUDGET}\nrequests_per_ip = {{ per_second = 0, burst = 1 }}\n"
    )
}

/// A REST chat with at least `n` messages after its join (written from several tasks).
async fn long_chat(server: &Server, n: u64) -> R<Chat> {
    let (chat, _) = request_chat(server, &[("nickname", "Long")]).await?;
    let on = Arc::new(AtomicBool::new(true));
    let tasks = writers(&chat, 8, &on, "line", &"abcdefghij".repeat(30));
    let filled = until_async("a long transcript", 60, || async {
        last_index(&chat).await.ok().filter(|i| *i > n)
    })
    .await;
    stop(&on, tasks).await;
    filled.map(|_| chat)
}

/// Polls the async `check` until it returns something, for at most `secs` seconds.
async fn until_async<T, F: Future<Output = Option<T>>>(
    what: &str,
    secs: u64,
    mut check: impl FnMut() -> F,
) -> R<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn resume_from_start(chat: &Chat) -> Value {
    json!({"operation": "requestNotifications", "secureKey": chat.secure_key,
           "chatId": chat.chat_id, "transcriptPosition": 1})
}

async fn last_index(chat: &Chat) -> R<u64> {
    let (s, v) = chat
        .call("refresh", &[("transcriptPosition", "-1")])
        .await?;
    assert_eq!(s, 200, "{v}");
    v["messages"][0]["index"]
        .as_u64()
        .ok_or_else(|| format!("no newest event in {v}").into())
}

/// Every index once, in order, in several notifications, each within the budget and
/// pointing at the next.
fn check_pages(notes: &[Value], last: u64) {
    assert_every_index_once(&indexes(notes), 1, last);
    let pages: Vec<&Value> = notes
        .iter()
        .filter(|n| n["messages"].as_array().is_some_and(|m| m.len() > 1))
        .collect();
    assert!(pages.len() >= 3, "several pages: {}", pages.len());
    for p in pages {
        let size = p["messages"].to_string().len();
        assert!(
            size <= BUDGET,
            "a page of {size} bytes over the {BUDGET} budget"
        );
        let last_in = p["messages"].as_array().and_then(|m| m.last()).cloned();
        let next = last_in.and_then(|e| e["index"].as_u64()).map(|i| i + 1);
        assert_eq!(
            p["nextPosition"].as_u64(),
            next,
            "nextPosition follows the page"
        );
    }
}

#[tokio::test]
async fn a_long_transcript_is_paged_exactly_once_over_long_polling() -> R {
    let server = Server::start(&config()).await?;
    let chat = long_chat(&server, EVENTS).await?;
    let last = last_index(&chat).await?;
    let lp = Lp::start(&cometd_url(&server), Vec::new()).await?;
    let task = lp.connect_forever();
    let r = lp.publish(CHANNEL, resume_from_start(&chat)).await?;
    assert_eq!(r["successful"], true, "{r}");
    until("the whole transcript", 20, || {
        (indexes(&lp.notes()).last() == Some(&last)).then_some(())
    })
    .await?;
    task.abort();
    check_pages(&lp.notes(), last);
    Ok(())
}

#[tokio::test]
async fn a_long_transcript_is_paged_exactly_once_over_websocket() -> R {
    let server = Server::start(&config()).await?;
    let chat = long_chat(&server, EVENTS).await?;
    let last = last_index(&chat).await?;
    let mut ws = Ws::open_ok(&server, &Vec::new(), None).await?;
    assert_eq!(ws.handshake().await?["successful"], true);
    assert_eq!(
        ws.publish(CHANNEL, resume_from_start(&chat)).await?["successful"],
        true
    );
    ws.pump("the whole transcript", 20, |w| {
        indexes(&w.notes).last() == Some(&last)
    })
    .await?;
    check_pages(&ws.notes, last);
    Ok(())
}

/// Events of about one page each: a transcript of a few hundred takes as many notifications,
/// and paging it out takes long enough for live events to arrive meanwhile.
const PAGE_SIZED: usize = 15_000;
const PAGED_EVENTS: u64 = 200;

/// Events keep arriving while the transcript is paged out: the client still gets every
/// index once, in order (a live event must not let the client skip the pages not yet sent:
/// before the watch's catching up, indexes 1..=42 then 222.. arrived, the rest never).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_during_the_paging_neither_skip_nor_repeat_an_index() -> R {
    let cfg = format!(
        "[cometd]\nmax_queue_bytes = 67108864\n\n\
         [services.customer-support]\nmax_message_length = 20000\n\n\
         [services.customer-support.limits]\nmax_chat_bytes = 33554432\n\
         max_response_bytes = {BUDGET}\nrequests_per_ip = {{ per_second = 0, burst = 1 }}\n"
    );
    let server = Server::start(&cfg).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Paged")]).await?;
    let big = "p".repeat(PAGE_SIZED);
    let filling = Arc::new(AtomicBool::new(true));
    let fill = writers(&chat, 8, &filling, "page", &big);
    let filled = until_async("a transcript of many pages", 60, || async {
        last_index(&chat).await.ok().filter(|i| *i > PAGED_EVENTS)
    })
    .await;
    stop(&filling, fill).await;
    filled?;
    // Small live events go on while new clients page the transcript out.
    let live = Arc::new(AtomicBool::new(true));
    let writing = writers(&chat, 4, &live, "live", "");
    let mut outcome = Ok(());
    for round in 0..5 {
        let mut ws = Ws::open_ok(&server, &Vec::new(), None).await?;
        assert_eq!(ws.handshake().await?["successful"], true);
        assert_eq!(
            ws.publish(CHANNEL, resume_from_start(&chat)).await?["successful"],
            true
        );
        let is_live = |e: &Value| e["text"].as_str().is_some_and(|t| t.starts_with("live"));
        outcome = ws
            .pump("live events after the transcript", 30, |w| {
                events(&w.notes)
                    .iter()
                    .rev()
                    .take(3)
                    .filter(|e| is_live(e))
                    .count()
                    == 3
            })
            .await
            .map_err(|e| format!("round {round}: {e}"));
        if outcome.is_err() {
            break;
        }
        let idx = indexes(&ws.notes);
        let last = idx.last().copied().unwrap_or(0);
        if idx != (1..=last).collect::<Vec<u64>>() {
            stop(&live, writing).await;
            assert_every_index_once(&idx, 1, last);
            return Ok(());
        }
    }
    stop(&live, writing).await;
    outcome.map_err(Into::into)
}

/// Sends messages `{prefix} {task} {n} {pad}` on `chat` from `tasks` tasks until `on` turns
/// false.
fn writers(
    chat: &Chat,
    tasks: usize,
    on: &Arc<AtomicBool>,
    prefix: &'static str,
    pad: &str,
) -> Vec<JoinHandle<()>> {
    (0..tasks)
        .map(|t| {
            let (chat, on, pad) = (chat.clone(), on.clone(), pad.to_owned());
            tokio::spawn(async move {
                let mut i = 0;
                while on.load(Ordering::Relaxed) {
                    let text = format!("{prefix} {t} {i} {pad}");
                    if chat.call("send", &[("message", &text)]).await.is_err() {
                        return;
                    }
                    i += 1;
                }
            })
        })
        .collect()
}

async fn stop(on: &AtomicBool, tasks: Vec<JoinHandle<()>>) {
    on.store(false, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
}

/// Whatever configuration the server accepts, a client can resume any transcript the
/// service allows: a resume's pages must fit in the client's queue (else the client is
/// dropped on every try and never gets its chat back).
///
/// Found by this test and fixed: `check-config` accepted a `cometd.max_queue`
/// smaller than the number of pages a transcript can take (`max_chat_bytes` /
/// `max_response_bytes`, at least one event per page, up to `max_events_per_chat` pages).
/// A queue of 10 messages against a transcript of 30 one-event pages: the
/// `requestNotifications` answer overflowed the queue and the client got `402::Unknown
/// client`, every time. Such a configuration is now refused; one that is accepted must work.
#[tokio::test]
async fn a_resume_fits_in_the_queue_of_any_accepted_configuration() -> R {
    let cfg = format!(
        "[cometd]\nmax_queue = 10\n\n[services.customer-support]\nmax_message_length = 20000\n\n\
         [services.customer-support.limits]\nmax_response_bytes = {BUDGET}\n\
         requests_per_ip = {{ per_second = 0, burst = 1 }}\n"
    );
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("chinwag.toml");
    std::fs::write(&file, &cfg)?;
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_chinwag"))
        .arg("check-config")
        .arg("--config")
        .arg(&file)
        .output()?;
    if !checked.status.success() {
        return Ok(()); // Refused with a reason: fine.
    }
    let server = Server::start(&cfg).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Pages")]).await?;
    let on = Arc::new(AtomicBool::new(true));
    let tasks = writers(&chat, 8, &on, "page", &"q".repeat(PAGE_SIZED));
    let filled = until_async("30 one-page events", 60, || async {
        last_index(&chat).await.ok().filter(|i| *i > 30)
    })
    .await;
    stop(&on, tasks).await;
    let last = filled?;
    // The whole answer is queued before the client's next connect.
    let lp = Lp::start(&cometd_url(&server), Vec::new()).await?;
    assert_eq!(
        lp.publish(CHANNEL, resume_from_start(&chat)).await?["successful"],
        true
    );
    let c = lp.connect().await?;
    assert_eq!(
        c["successful"], true,
        "the resuming client was dropped: {c}"
    );
    let task = lp.connect_forever();
    let got = until("the whole transcript", 20, || {
        (indexes(&lp.notes()).last() == Some(&last)).then_some(())
    })
    .await;
    task.abort();
    got?;
    assert_every_index_once(&indexes(&lp.notes()), 1, last);
    Ok(())
}
