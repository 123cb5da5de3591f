//! A minimal Bayeux client for load: handshake, subscribe, then a connect loop over
//! WebSocket or HTTP long-polling, recording the latency of every delivery whose data holds
//! the publisher's clock (`t`, µs since the epoch).

use crate::load::Conn;
use crate::rawhttp::RawHttp;
use crate::rawws::RawWs;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};

use memchr::memmem::Finder;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as M;

/// µs since the epoch.
pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Which transport a client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Ws,
    Lp,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Ws => "websocket",
            Kind::Lp => "long-polling",
        }
    }
}

pub(crate) const PATH: &str = "/genesys/cometd";

fn handshake_msg(kind: Kind) -> String {
    json!([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":[kind.name()],"id":"1"}]).to_string()
}

fn subscribe_msg(id: &str, rooms: &[String]) -> String {
    let msgs: Vec<Value> = rooms
        .iter()
        .enumerate()
        .map(|(i, r)| json!({"channel":"/meta/subscribe","clientId":id,"subscription":r,"id":format!("s{i}")}))
        .collect();
    Value::Array(msgs).to_string()
}

/// A connect (formatted directly: subscribers send one per delivery round, and the
/// generator must stay cheap; ids are hex and transport names plain, so nothing to escape).
fn connect_msg(id: &str, kind: Kind, n: u64) -> String {
    format!(
        r#"[{{"channel":"/meta/connect","clientId":"{id}","connectionType":"{}","id":"c{n}"}}]"#,
        kind.name()
    )
}

/// What a subscriber saw: every delivery counted, the latency (µs) of those published after
/// the warm-up, and when the last one arrived (µs since the epoch), so a run's rate can be
/// taken over the time deliveries really took.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub(crate) delivered: u64,
    pub(crate) lat: Vec<u32>,
    /// For each latency, the second (after the warm-up) its message was published in.
    pub(crate) second: Vec<u16>,
    pub(crate) last_us: u64,
    /// Connect replies (long-polling: responses) received.
    pub(crate) connects: u64,
    /// Deliveries published before this time (µs since the epoch) are the warm-up: counted,
    /// but not in the latency figures. Set when publishing starts.
    pub(crate) measure_from: Arc<AtomicU64>,
}

/// Reads deliveries out of a reply array into `seen`; returns whether a connect reply
/// was seen. A byte scan, not a JSON parse: the load generator must stay much cheaper per
/// message than the servers it measures (the publisher's `"t":` field is the only number
/// named `t`, and only connect replies contain `/meta/connect`).
fn absorb(text: &[u8], seen: &mut Seen) -> bool {
    let now = now_us();
    let from = seen.measure_from.load(Ordering::Relaxed);
    let mut rest = text;
    while let Some(pos) = T_FIELD.find(rest) {
        rest = &rest[pos + 4..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let t = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|d| d.parse::<u64>().ok());
        if let Some(t) = t {
            seen.delivered += 1;
            seen.last_us = now;
            if t >= from {
                seen.lat
                    .push(u32::try_from(now.saturating_sub(t)).unwrap_or(u32::MAX));
                seen.second
                    .push(u16::try_from((t - from) / 1_000_000).unwrap_or(u16::MAX));
            }
        }
    }
    let connect = CONNECT.find(text).is_some();
    seen.connects += u64::from(connect);
    connect
}

/// Searchers built once (building one per search showed in the generator's profile).
static T_FIELD: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"t\":"));
static CONNECT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"/meta/connect"));

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket and handshakes over it; returns the socket and the client id.
async fn ws_session(addr: &str) -> anyhow::Result<(Ws, String)> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{PATH}")).await?;
    ws.send(M::text(handshake_msg(Kind::Ws))).await?;
    loop {
        if let Some(M::Text(t)) = ws.next().await.transpose()? {
            return Ok((ws, client_id(t.as_bytes())?));
        }
    }
}

/// Opens a keep-alive HTTP connection and handshakes over it; returns it and the client id.
async fn lp_session(addr: &str) -> anyhow::Result<(Conn, String)> {
    let mut conn = Conn::open(addr).await?;
    let (_, body) = conn
        .post_as(
            &format!("{PATH}/handshake"),
            "application/json",
            &handshake_msg(Kind::Lp),
        )
        .await?;
    let id = client_id(&body)?;
    Ok((conn, id))
}

fn client_id(text: &[u8]) -> anyhow::Result<String> {
    let v: Value = serde_json::from_slice(text)?;
    v[0]["clientId"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("handshake failed: {v}"))
}

/// A connected subscriber. `ready` fires once its first connect is answered; it stops when
/// `stop` turns true and returns what it saw.
pub(crate) async fn subscriber(
    addr: String,
    kind: Kind,
    rooms: Vec<String>,
    ready: tokio::sync::mpsc::Sender<()>,
    measure_from: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Seen> {
    let mut lat = Seen {
        measure_from,
        ..Seen::default()
    };
    match kind {
        Kind::Ws => {
            let mut ws = RawWs::connect(&addr, PATH).await?;
            ws.send(&handshake_msg(kind)).await?;
            let mut id = None;
            while id.is_none() {
                ws.frames(|p| id = id.take().or_else(|| client_id(p).ok()))
                    .await?;
            }
            let id = id.unwrap_or_default();
            ws.send(&subscribe_msg(&id, &rooms)).await?;
            let (mut sent, mut answered) = (0u64, 0u64);
            ws.send(&connect_msg(&id, kind, sent)).await?;
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    r = ws.frames(|p| if absorb(p, &mut lat) { answered += 1 }) => r?,
                }
                if answered > 0 && sent == 0 {
                    let _ = ready.send(()).await;
                }
                while sent < answered {
                    sent += 1;
                    ws.send(&connect_msg(&id, kind, sent)).await?;
                }
            }
        }
        Kind::Lp => {
            let mut conn = RawHttp::connect(&addr).await?;
            let hs = conn
                .post(&format!("{PATH}/handshake"), &handshake_msg(kind))
                .await?;
            let id = client_id(hs)?;
            conn.post(PATH, &subscribe_msg(&id, &rooms)).await?;
            let path = format!("{PATH}/connect");
            let mut n = 0;
            let mut announced = false;
            loop {
                n += 1;
                let msg = connect_msg(&id, kind, n);
                let body = tokio::select! {
                    _ = stop.changed() => break,
                    r = conn.post(&path, &msg) => r?,
                };
                absorb(body, &mut lat);
                if !announced {
                    announced = true;
                    let _ = ready.send(()).await;
                }
            }
        }
    }
    Ok(lat)
}

/// When and how often a publisher sends: a batch every `every`, the first after `offset`
/// (publishers are spread evenly over the period, so the rate in is steady, not bursts).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    pub(crate) every: std::time::Duration,
    pub(crate) offset: std::time::Duration,
}

/// A publisher session sending a batch of `batch` messages at `pace`, each message to a
/// random room of `rooms` (CometD's benchmark: one Bayeux batch per request or frame);
/// adds each batch the server took to `published` (kept even if the task is aborted).
pub(crate) async fn publisher(
    addr: String,
    kind: Kind,
    rooms: Vec<String>,
    batch: usize,
    pace: Pace,
    published: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let pad = "x".repeat(24);
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64 ^ u64::from(std::process::id()) ^ now_us();
    let mut body = |id: &str, n: u64| {
        let msgs: Vec<Value> = (0..batch as u64)
            .map(|k| {
                // xorshift: a cheap, good-enough spread over the rooms
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let room = &rooms[usize::try_from(rng % rooms.len() as u64).unwrap_or(0)];
                json!({"channel":room,"clientId":id,"id":format!("p{n}.{k}"),"data":{"t":now_us(),"p":pad}})
            })
            .collect();
        Value::Array(msgs).to_string()
    };
    let first = tokio::time::Instant::now() + pace.offset;
    let mut tick = tokio::time::interval_at(first, pace.every);
    // Keep the offered rate when the generator falls behind: send the missed batches.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = 0u64;
    match kind {
        Kind::Ws => {
            let (ws, id) = ws_session(&addr).await?;
            let (mut tx, mut rx) = ws.split();
            // A live session keeps a connect outstanding (else it is swept after
            // maxInterval): the reader asks for the next one whenever one is answered.
            let (again_tx, mut again) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(async move {
                while let Some(Ok(frame)) = rx.next().await {
                    if let M::Text(t) = frame
                        && find(t.as_bytes(), b"/meta/connect").is_some()
                    {
                        let _ = again_tx.send(());
                    }
                }
            });
            let mut connects = 0;
            tx.send(M::text(connect_msg(&id, kind, connects))).await?;
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    Some(()) = again.recv() => {
                        connects += 1;
                        tx.send(M::text(connect_msg(&id, kind, connects))).await?;
                    }
                    _ = tick.tick() => {
                        // A server holding its publishers back must not keep them past the
                        // window: the send is abandoned when the run stops (uncounted).
                        let msgs = body(&id, sent);
                        match or_stop(stop.clone(), tx.send(M::text(msgs))).await {
                            Some(r) => r?,
                            None => break,
                        }
                        sent += batch as u64;
                        published.fetch_add(batch as u64, Ordering::Relaxed);
                    }
                }
            }
        }
        Kind::Lp => {
            let (mut conn, id) = lp_session(&addr).await?;
            let mut held = Conn::open(&addr).await?;
            let (cid, mut cstop) = (id.clone(), stop.clone());
            tokio::spawn(async move {
                let path = format!("{PATH}/connect");
                for n in 0.. {
                    let msg = connect_msg(&cid, kind, n);
                    let connect = held.post_as(&path, "application/json", &msg);
                    tokio::select! {
                        _ = cstop.changed() => break,
                        r = connect => if r.is_err() { break },
                    }
                }
            });
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tick.tick() => {
                        // Each publish waits for its answer (as CometD clients do); one
                        // still unanswered when the run ends is given up on by the caller.
                        conn.post_as(PATH, "application/json", &body(&id, sent)).await?;
                        sent += batch as u64;
                        published.fetch_add(batch as u64, Ordering::Relaxed);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Runs `fut` unless the run stops first.
async fn or_stop<T>(
    mut stop: watch::Receiver<bool>,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        _ = stop.wait_for(|s| *s) => None,
        r = fut => Some(r),
    }
}

/// An idle client: handshake, one subscription, a held connect; kept until `stop`.
pub(crate) async fn idle(
    addr: String,
    kind: Kind,
    ready: tokio::sync::mpsc::Sender<()>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let rooms = vec!["/bench/idle".to_owned()];
    let mut lat = Seen::default();
    match kind {
        Kind::Ws => {
            let (mut ws, id) = ws_session(&addr).await?;
            ws.send(M::text(subscribe_msg(&id, &rooms))).await?;
            ws.send(M::text(connect_msg(&id, kind, 0))).await?;
            // The first connect returns at once; the second is held.
            loop {
                if let Some(M::Text(t)) = ws.next().await.transpose()?
                    && absorb(t.as_bytes(), &mut lat)
                {
                    break;
                }
            }
            let mut n = 1;
            ws.send(M::text(connect_msg(&id, kind, n))).await?;
            let _ = ready.send(()).await;
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    frame = ws.next() => match frame.transpose()? {
                        Some(M::Text(t)) if absorb(t.as_bytes(), &mut lat) => {
                            n += 1;
                            ws.send(M::text(connect_msg(&id, kind, n))).await?;
                        }
                        Some(_) => {}
                        None => break,
                    },
                }
            }
        }
        Kind::Lp => {
            let (mut conn, id) = lp_session(&addr).await?;
            conn.post_as(PATH, "application/json", &subscribe_msg(&id, &rooms))
                .await?;
            conn.post_as(
                &format!("{PATH}/connect"),
                "application/json",
                &connect_msg(&id, kind, 0),
            )
            .await?;
            let _ = ready.send(()).await;
            for n in 1.. {
                let (path, msg) = (format!("{PATH}/connect"), connect_msg(&id, kind, n));
                let held = conn.post_as(&path, "application/json", &msg);
                tokio::select! {
                    _ = stop.changed() => break,
                    r = held => { r?; }
                }
            }
        }
    }
    Ok(())
}
