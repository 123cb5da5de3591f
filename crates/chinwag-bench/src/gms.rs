//! The customer's side of the GMS REST API as the scenarios drive it: request a chat (with
//! or without the user data Genesys Widgets attach), per-chat operations, and creating many
//! chats over a few keep-alive connections.

use crate::load::{Conn, Progress, Stats};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The REST path of the benchmarked service.
pub(crate) const SERVICE: &str = "/genesys/2/chat/customer-support";

/// The ten `userData` keys Genesys Widgets (WebChat) send with a new chat, with values like
/// a real page's.
pub(crate) const WIDGET_USER_DATA: [(&str, &str); 10] = [
    (
        "_genesys_url",
        "https://www.example-bank.com/help/contact-us?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
    ),
    ("_genesys_referrer", "https://www.google.com/"),
    (
        "_genesys_pageTitle",
        "Contact us | Example Bank - Help & Support",
    ),
    ("_genesys_browser", "Chrome"),
    ("_genesys_OS", "Windows"),
    ("_genesys_widgets", "9.0.019.03"),
    ("GCTI_LanguageCode", "en-US"),
    ("name", "Joan Smith"),
    ("email", "joan.smith@example.com"),
    ("subject", "Question about my credit card statement"),
];

/// Form-encodes one value (`application/x-www-form-urlencoded`).
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The `requestChat` form of customer `n`, with the widgets' user data or without any.
pub(crate) fn request_form(n: usize, user_data: bool) -> String {
    let mut form = format!("nickname=bench{n}&subject=load");
    if user_data {
        for (k, v) in WIDGET_USER_DATA {
            form.push_str(&format!("&userData%5B{}%5D={}", urlencode(k), urlencode(v)));
        }
    }
    form
}

/// A customer's handle on one chat.
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    pub(crate) chat: String,
    pub(crate) user: String,
    pub(crate) key: String,
}

impl Ids {
    /// The ids in a `requestChat` answer.
    pub(crate) fn from_answer(body: &[u8]) -> anyhow::Result<Self> {
        let v: Value = serde_json::from_slice(body)?;
        let s = |k: &str| {
            v[k].as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("no {k}"))
        };
        Ok(Self {
            chat: s("chatId")?,
            user: s("userId")?,
            key: s("secureKey")?,
        })
    }
}

/// Requests chat `n`.
pub(crate) async fn request_chat(
    conn: &mut Conn,
    n: usize,
    user_data: bool,
) -> anyhow::Result<Ids> {
    let (status, body) = conn
        .post(&format!("{SERVICE}/"), &request_form(n, user_data))
        .await?;
    anyhow::ensure!(status == 200, "request chat answered {status}");
    Ids::from_answer(&body)
}

/// The path and form of operation `op` on a chat (`extra` is appended to the form).
pub(crate) fn per_chat(ids: &Ids, op: &str, extra: &str) -> (String, String) {
    (
        format!("{SERVICE}/{}/{op}", ids.chat),
        format!("userId={}&secureKey={}&alias=1{extra}", ids.user, ids.key),
    )
}

/// Creates `count` chats over `conns` connections and leaves them open.
pub(crate) async fn create_chats(
    addr: &str,
    count: usize,
    conns: usize,
    label: &str,
    user_data: bool,
) -> anyhow::Result<Vec<Ids>> {
    let counter = Arc::new(AtomicU64::new(0));
    let _p = Progress::start(label.to_owned(), counter.clone(), Some(count as u64));
    let mut tasks = Vec::new();
    for w in 0..conns {
        let (addr, counter) = (addr.to_owned(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await?;
            let mut out = Vec::new();
            for n in (w..count).step_by(conns) {
                out.push(request_chat(&mut conn, n, user_data).await?);
                counter.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(out)
        }));
    }
    let mut all = Vec::with_capacity(count);
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

/// `requestChat` latency: `samples` chats requested over `conns` connections, each
/// disconnected at once (not timed) so the queue keeps the length it had.
pub(crate) async fn request_latency(
    addr: &str,
    samples: usize,
    conns: usize,
    label: &str,
) -> anyhow::Result<Stats> {
    let counter = Arc::new(AtomicU64::new(0));
    let _p = Progress::start(label.to_owned(), counter.clone(), Some(samples as u64));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..conns {
        let (addr, counter) = (addr.to_owned(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await?;
            let mut stats = Stats::default();
            for n in (w..samples).step_by(conns) {
                let t = Instant::now();
                let ids = request_chat(&mut conn, n, false).await?;
                stats.record(t);
                let (path, form) = per_chat(&ids, "disconnect", "");
                let (status, _) = conn.post(&path, &form).await?;
                anyhow::ensure!(status == 200, "disconnect answered {status}");
                counter.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(stats)
        }));
    }
    let mut total = Stats::default();
    for t in tasks {
        total.merge(t.await??);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}
