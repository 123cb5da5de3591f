//! A huge transcript read back by refresh: a chat filled to `max_events_per_chat` with
//! thousands of messages (multi-byte text) is refused further content with HTTP 400 code
//! 413 while disconnect still works; a refresh from position 1 carries at most
//! `max_response_bytes` of events (measured as the JSON sent) with a `nextPosition`, and
//! following `nextPosition` yields every index exactly once, in order.

use crate::adv_net::gms_code;
use crate::common::*;
use serde_json::Value;

const EVENTS: usize = 2500;
const RESPONSE_BYTES: usize = 16384;

fn config() -> String {
    format!(
        "[services.customer-support.limits]\nmax_events_per_chat = {EVENTS}\n\
         max_response_bytes = {RESPONSE_BYTES}\nrequests_per_ip = {{ per_second = 0, burst = 0 }}\n"
    )
}

/// Message `i`: multi-byte text (bytes, not characters, fill the answers).
fn text(i: usize) -> String {
    format!("{i:04} {}", "Grüße, 世界 🦀 — ok ".repeat(4))
}

/// Every event from `from`, page by page: (pages, events).
async fn read_all(chat: &Chat, from: u64) -> R<(usize, Vec<Value>)> {
    let (mut pos, mut pages, mut all) = (from, 0, Vec::new());
    let http = client();
    loop {
        let (s, v) = chat
            .call_on(
                &http,
                "refresh",
                &[("transcriptPosition", &pos.to_string())],
            )
            .await?;
        assert_eq!(s, 200, "{v}");
        let msgs = v["messages"].as_array().ok_or("no messages")?;
        if msgs.is_empty() {
            return Ok((pages, all));
        }
        pages += 1;
        let bytes = serde_json::to_string(&v["messages"])?.len();
        assert!(
            bytes <= RESPONSE_BYTES,
            "page from {pos}: {bytes} bytes of events"
        );
        let last = msgs.last().and_then(|m| m["index"].as_u64()).unwrap_or(0);
        assert_eq!(msgs[0]["index"], pos, "a page starts where asked");
        assert_eq!(v["nextPosition"], last + 1, "page from {pos}");
        all.extend(msgs.iter().cloned());
        pos = last + 1;
    }
}

#[tokio::test]
async fn a_full_transcript_is_paged_by_refresh_and_refuses_more_but_can_end() -> R {
    let server = Server::start(&config()).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Talker")]).await?;
    // Fill the chat: its join plus EVENTS - 1 messages, eight senders at once.
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (chat, http) = (chat.clone(), client());
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while i < EVENTS - 1 {
                let (s, v) = chat
                    .call_on(&http, "send", &[("message", &text(i))])
                    .await
                    .map_err(|e| e.to_string())?;
                if s != 200 {
                    return Err(format!("send {i}: {s} {v}"));
                }
                i += 8;
            }
            Ok::<_, String>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    // Full: content is refused with 413, the transcript unchanged.
    for (op, extra) in [
        ("send", &[("message", "one too many")][..]),
        ("customNotice", &[("message", "notice")][..]),
        ("startTyping", &[][..]),
        ("pushUrl", &[("pushUrl", "https://example.com")][..]),
    ] {
        let (s, v) = chat.call(op, extra).await?;
        assert_eq!((s, gms_code(&v)?), (400, 413), "{op}: {v}");
    }
    let (_, v) = chat
        .call("refresh", &[("transcriptPosition", "-1")])
        .await?;
    assert_eq!(v["messages"][0]["index"], EVENTS, "{v}");
    // Leaving still works.
    let (s, v) = chat.call("disconnect", &[]).await?;
    assert_eq!((s, &v["chatEnded"]), (200, &Value::Bool(true)), "{v}");
    // Every index exactly once, in order, over many pages.
    let (pages, all) = read_all(&chat, 1).await?;
    let idx: Vec<u64> = all.iter().filter_map(|m| m["index"].as_u64()).collect();
    let total = EVENTS as u64 + 1;
    assert_eq!(idx, (1..=total).collect::<Vec<_>>());
    assert!(pages > 10, "{pages} pages");
    assert_eq!(
        all.last().map(|m| &m["type"]),
        Some(&"ParticipantLeft".into())
    );
    let texts: Vec<String> = all[1..EVENTS]
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect();
    let mut expected: Vec<String> = (0..EVENTS - 1).map(text).collect();
    let mut got = texts.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "every message once");
    // Reading from the middle pages the same way.
    let (_, tail) = read_all(&chat, 2000).await?;
    assert_eq!(tail.as_slice(), &all[1999..]);
    Ok(())
}

/// Text JSON must escape (control characters: six bytes each as `\u0001`) counts at its
/// escaped size in the engine's estimate (`Event::wire_size`): before, it counted once, so a
/// page of such messages carried about six times `max_response_bytes`.
#[tokio::test]
async fn a_page_of_escape_heavy_messages_stays_within_max_response_bytes() -> R {
    let server = Server::start(&config()).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Escaper")]).await?;
    let http = client();
    let text = "\u{1}".repeat(800);
    for _ in 0..20 {
        let (s, v) = chat.call_on(&http, "send", &[("message", &text)]).await?;
        assert_eq!(s, 200, "{v}");
    }
    read_all(&chat, 1).await?;
    Ok(())
}
