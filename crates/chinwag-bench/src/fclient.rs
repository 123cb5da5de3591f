//! One customer of the `failover` scenario: a GMS chat over CometD (long-polling or
//! WebSocket) that keeps its `clientId` across reconnections, as a client behind a balancer
//! does. It records every event it receives by transcript index (a second arrival of an
//! index is a redelivery, deduped), and times each disruption — a move to another node it is
//! told to make, or its connection breaking — until its first successful `/meta/connect`
//! answer and until the first event with an index it had not seen. After each reconnection it
//! sends one message of its own (`sendMessage`, as a customer typing on would), so a resume is
//! seen at once rather than at the agents' next message.

use crate::bclient::{Kind, PATH};
use crate::load::Conn;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message as M;

/// The GMS chat channel of the benchmarked service.
const CHANNEL: &str = "/service/chatV2/customer-support";

/// Pause before another try after a refused connect or a failed reconnection.
const RETRY: Duration = Duration::from_millis(100);

/// One disruption as a customer lived it.
#[derive(Debug, Clone)]
pub(crate) struct Disruption {
    /// `"break"` when its connection broke, else the tag of the move it was told to make.
    pub(crate) tag: &'static str,
    /// When this client noticed it.
    pub(crate) began: Instant,
    /// The highest transcript index it had seen before.
    pub(crate) before: u64,
    /// Its first successful `/meta/connect` answer after it.
    pub(crate) connected: Option<Instant>,
    /// Its first event with an index above `before`.
    pub(crate) resumed: Option<Instant>,
}

/// What a customer saw, shared with the scenario (locked only to read or record).
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The chat's `secureKey`, once `requestChat` was answered.
    pub(crate) key: Option<String>,
    /// Every event received, by index: its text (or its type when it has none).
    pub(crate) seen: HashMap<u64, String>,
    /// Events received again with an index already seen (deduped).
    pub(crate) redelivered: u64,
    /// `402` answers (the cluster lost the session).
    pub(crate) refused_402: u64,
    /// Other refusals: unsuccessful connects or publishes, error notifications.
    pub(crate) errors: u64,
    /// The first few of those errors, for the report.
    pub(crate) error_samples: Vec<String>,
    /// Messages of its own the server acknowledged.
    pub(crate) sent: Vec<String>,
    pub(crate) disruptions: Vec<Disruption>,
    /// The last batch number a connect answer carried (the `ack` extension).
    ack: Option<u64>,
}

impl State {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.error_samples.len() < 3 {
            self.error_samples.push(what);
        }
    }

    fn begin(&mut self, tag: &'static str) {
        let before = self.seen.keys().copied().max().unwrap_or(0);
        self.disruptions.push(Disruption {
            tag,
            began: Instant::now(),
            before,
            connected: None,
            resumed: None,
        });
    }
}

/// Locks a customer's state.
pub(crate) fn lock(s: &Mutex<State>) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An order to drop the connection and reconnect to `addr`.
#[derive(Debug)]
pub(crate) struct Move {
    pub(crate) addr: String,
    pub(crate) tag: &'static str,
}

/// A customer: its number, transport, the node it starts on and the one it turns to when
/// its connection breaks.
pub(crate) struct Customer {
    pub(crate) n: usize,
    pub(crate) kind: Kind,
    pub(crate) home: String,
    pub(crate) fallback: String,
    pub(crate) state: Arc<Mutex<State>>,
}

/// What one answer held.
#[derive(Default)]
struct Absorbed {
    /// A `/meta/connect` answer: whether it was successful.
    connect: Option<bool>,
    /// The advised wait before the next connect (`advice.interval`, ms).
    interval: Option<u64>,
    /// A failure notification for the chat (e.g. a `requestChat` refused).
    failed: bool,
}

/// Records a reply array's deliveries and answers into `state`.
fn absorb(state: &Mutex<State>, body: &[u8]) -> Absorbed {
    let mut out = Absorbed::default();
    let Ok(Value::Array(msgs)) = serde_json::from_slice::<Value>(body) else {
        lock(state).error(format!(
            "not a Bayeux reply: {}",
            String::from_utf8_lossy(body)
        ));
        return out;
    };
    let now = Instant::now();
    let mut s = lock(state);
    for m in &msgs {
        let ok = m["successful"].as_bool();
        if m["channel"] == "/meta/connect" {
            out.connect = Some(ok == Some(true));
            out.interval = m["advice"]["interval"].as_u64();
            if let Some(batch) = m["ext"]["ack"].as_u64() {
                s.ack = Some(batch);
            }
            if ok == Some(true) {
                if let Some(d) = s.disruptions.last_mut() {
                    d.connected.get_or_insert(now);
                }
            } else if m["error"].as_str().is_some_and(|e| e.starts_with("402")) {
                s.refused_402 += 1;
            } else {
                s.error(m.to_string());
            }
        } else if let Some(data) = m.get("data") {
            if let Some(k) = data["secureKey"].as_str() {
                s.key = Some(k.to_owned());
            }
            if data["statusCode"].as_u64().is_some_and(|c| c != 0) {
                out.failed = true;
                s.error(data.to_string());
            }
            for e in data["messages"].as_array().into_iter().flatten() {
                let Some(index) = e["index"].as_u64() else {
                    continue;
                };
                let text = e["text"].as_str().or(e["type"].as_str()).unwrap_or("");
                if s.seen.insert(index, text.to_owned()).is_some() {
                    s.redelivered += 1;
                }
                if let Some(d) = s.disruptions.last_mut()
                    && index > d.before
                {
                    d.resumed.get_or_insert(now);
                }
            }
        } else if ok == Some(true) {
            // A publish acknowledged: probes carry their text in the id.
            if let Some(text) = m["id"].as_str().and_then(|i| i.strip_prefix('q')) {
                s.sent.push(text.to_owned());
            }
        } else if ok == Some(false) {
            s.error(m.to_string());
        }
    }
    out
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A connection to one node: the held connects of long-polling, or a WebSocket.
enum Link {
    Lp(Conn),
    Ws(Box<Ws>),
}

impl Link {
    async fn open(kind: Kind, addr: &str) -> anyhow::Result<Self> {
        Ok(match kind {
            Kind::Lp => Link::Lp(Conn::open(addr).await?),
            Kind::Ws => {
                let url = format!("ws://{addr}{PATH}");
                Link::Ws(Box::new(tokio_tungstenite::connect_async(url).await?.0))
            }
        })
    }

    /// Long-polling: sends a connect and returns its answer. WebSocket: returns the next
    /// text frame (the caller sends the connects).
    async fn next(&mut self, id: &str, n: &mut u64, st: &Mutex<State>) -> anyhow::Result<Vec<u8>> {
        match self {
            Link::Lp(conn) => {
                *n += 1;
                let msg = connect_msg(id, Kind::Lp, *n, st);
                let (_, body) = conn
                    .post_as(&format!("{PATH}/connect"), "application/json", &msg)
                    .await?;
                Ok(body.to_vec())
            }
            Link::Ws(ws) => loop {
                match ws.next().await.transpose()? {
                    Some(M::Text(t)) => return Ok(t.as_bytes().to_vec()),
                    Some(_) => {}
                    None => anyhow::bail!("WebSocket closed"),
                }
            },
        }
    }
}

/// A connect acknowledging the last batch received (the `ack` extension, which the
/// customers use as CometD clients built for reliability do: what a dropped connection
/// carried comes again).
fn connect_msg(id: &str, kind: Kind, n: u64, state: &Mutex<State>) -> String {
    let mut m = json!({"channel": "/meta/connect", "clientId": id,
                       "connectionType": kind.name(), "id": format!("c{n}")});
    if let Some(batch) = lock(state).ack {
        m["ext"] = json!({"ack": batch});
    }
    json!([m]).to_string()
}

fn publish_msg(id: &str, data: Value, msg_id: &str) -> String {
    json!([{"channel": CHANNEL, "clientId": id, "id": msg_id, "data": data}]).to_string()
}

/// Handshakes on `link`; returns the client id.
async fn handshake(link: &mut Link, kind: Kind, st: &Mutex<State>) -> anyhow::Result<String> {
    let msg = json!([{"channel": "/meta/handshake", "version": "1.0",
                      "supportedConnectionTypes": [kind.name()], "id": "h",
                      "ext": {"ack": true}}])
    .to_string();
    let body = match link {
        Link::Lp(conn) => {
            let path = format!("{PATH}/handshake");
            conn.post_as(&path, "application/json", &msg)
                .await?
                .1
                .to_vec()
        }
        Link::Ws(ws) => {
            ws.send(M::text(msg)).await?;
            link.next("", &mut 0, st).await?
        }
    };
    let v: Value = serde_json::from_slice(&body)?;
    v[0]["clientId"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("handshake failed: {v}"))
}

/// Publishes `data`: on the WebSocket itself, or (long-polling) on a connection of its own
/// to `addr`, retried while the node answers without a reply array (at most 20 tries).
async fn publish(c: &Customer, link: &mut Link, addr: &str, id: &str, data: Value, mid: String) {
    let msg = publish_msg(id, data, &mid);
    if let Link::Ws(ws) = link {
        if ws.send(M::text(msg)).await.is_err() {
            lock(&c.state).error("publish on a closed WebSocket".into());
        }
        return;
    }
    let (state, addr) = (c.state.clone(), addr.to_owned());
    tokio::spawn(async move {
        for _ in 0..20 {
            if let Ok(mut conn) = Conn::open(&addr).await
                && let Ok((200, body)) = conn.post_as(PATH, "application/json", &msg).await
            {
                absorb(&state, &body);
                return;
            }
            tokio::time::sleep(RETRY).await;
        }
        lock(&state).error(format!("publish {mid} never answered"));
    });
}

/// Reconnects to `addr` (trying again every 100 ms until `stop`), then sends a connect
/// (WebSocket) and the customer's probe message.
async fn reconnect(
    c: &Customer,
    addr: &str,
    id: &str,
    n: &mut u64,
    stop: &watch::Receiver<bool>,
) -> Option<Link> {
    let mut link = loop {
        match Link::open(c.kind, addr).await {
            Ok(l) => break l,
            Err(_) if !*stop.borrow() => tokio::time::sleep(RETRY).await,
            Err(_) => return None,
        }
    };
    if let Link::Ws(ws) = &mut link {
        *n += 1;
        let _ = ws
            .send(M::text(connect_msg(id, c.kind, *n, &c.state)))
            .await;
    }
    let (key, k) = {
        let s = lock(&c.state);
        (s.key.clone(), s.disruptions.len())
    };
    if let Some(key) = key {
        let text = format!("p{}.{k}", c.n);
        let data = json!({"operation": "sendMessage", "secureKey": key, "message": text});
        publish(c, &mut link, addr, id, data, format!("q{text}")).await;
    }
    Some(link)
}

/// Runs the customer until `stop`: handshake on its home node, `requestChat` (`ready` is
/// sent once the chat's key arrived), then held connects, obeying `moves` and turning to its
/// fallback node when its connection breaks. Returns early only after a `402`.
pub(crate) async fn run(
    c: Customer,
    mut moves: mpsc::Receiver<Move>,
    ready: mpsc::Sender<bool>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut addr = c.home.clone();
    let mut link = Link::open(c.kind, &addr).await?;
    let id = handshake(&mut link, c.kind, &c.state).await?;
    let request = json!({"operation": "requestChat", "nickname": format!("bench{}", c.n)});
    let mut n = 0;
    let mut tries = 1;
    let mut announced = false;
    // The first connect is answered at once; the chat is asked for with it outstanding.
    let mut ws_connect_due = true;
    let mut asked = false;
    loop {
        if let Link::Ws(ws) = &mut link
            && ws_connect_due
        {
            n += 1;
            ws_connect_due = false;
            let _ = ws
                .send(M::text(connect_msg(&id, c.kind, n, &c.state)))
                .await;
        }
        if !asked {
            asked = true;
            publish(&c, &mut link, &addr, &id, request.clone(), "r".into()).await;
        }
        let got = tokio::select! {
            _ = stop.changed() => return Ok(()),
            m = moves.recv() => {
                let Some(m) = m else { return Ok(()) };
                lock(&c.state).begin(m.tag);
                addr = m.addr;
                drop(link);
                let Some(l) = reconnect(&c, &addr, &id, &mut n, &stop).await else { return Ok(()) };
                link = l;
                ws_connect_due = false;
                continue;
            }
            r = link.next(&id, &mut n, &c.state) => r,
        };
        match got {
            Ok(body) => {
                let a = absorb(&c.state, &body);
                if lock(&c.state).refused_402 > 0 {
                    let _ = ready.send(false).await;
                    return Ok(());
                }
                let has_key = lock(&c.state).key.is_some();
                if !announced && has_key {
                    announced = true;
                    let _ = ready.send(true).await;
                }
                if a.failed && !has_key && tries < 10 {
                    // requestChat refused for now (e.g. routing contended): ask again.
                    tries += 1;
                    tokio::time::sleep(RETRY * 2).await;
                    asked = false;
                }
                if let Some(ok) = a.connect {
                    ws_connect_due = true;
                    if !ok {
                        // As CometD clients do: the advised interval, else a short pause.
                        let ms = a.interval.map_or(RETRY, Duration::from_millis);
                        tokio::time::sleep(ms).await;
                    }
                }
            }
            Err(_) => {
                if *stop.borrow() {
                    return Ok(());
                }
                lock(&c.state).begin("break");
                addr = c.fallback.clone();
                let Some(l) = reconnect(&c, &addr, &id, &mut n, &stop).await else {
                    return Ok(());
                };
                link = l;
                ws_connect_due = false;
            }
        }
    }
}
