//! Raw Bayeux clients for the adversarial CometD tests (`adv_cometd_*`): a long-polling
//! client over reqwest and a WebSocket client over tokio-tungstenite, both able to set any
//! request header (`Origin`, `X-Forwarded-For`, `apikey`, `Authorization`) and the WebSocket
//! one able to shrink its receive buffer and stop reading; plus bounded waits.

#![allow(dead_code, unreachable_pub)]

use crate::common::{R, Server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

/// The GMS chat channel of the default service.
pub const CHANNEL: &str = "/service/chatV2/customer-support";

/// Headers sent with every request of a client.
pub type Headers = Vec<(&'static str, String)>;

/// The CometD endpoint of `server`.
pub fn cometd_url(server: &Server) -> String {
    format!("{}/genesys/cometd", server.base)
}

/// Polls `check` until it returns something, for at most `secs` seconds.
pub async fn until<T>(what: &str, secs: u64, mut check: impl FnMut() -> Option<T>) -> R<T> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `fut` for at most `secs` seconds (a hung server fails the test instead of hanging it).
pub async fn bounded<T>(what: &str, secs: u64, fut: impl Future<Output = R<T>>) -> R<T> {
    tokio::time::timeout(Duration::from_secs(secs), fut)
        .await
        .map_err(|_| format!("{what}: no answer within {secs} s (server hung?)"))?
}

/// The chat events of notifications, in arrival order.
pub fn events(notes: &[Value]) -> Vec<Value> {
    notes
        .iter()
        .flat_map(|n| n["messages"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The event indexes of notifications, in arrival order.
pub fn indexes(notes: &[Value]) -> Vec<u64> {
    events(notes)
        .iter()
        .filter_map(|e| e["index"].as_u64())
        .collect()
}

/// Asserts `got` is exactly `from..=to`: every index once, in order.
pub fn assert_every_index_once(got: &[u64], from: u64, to: u64) {
    let want: Vec<u64> = (from..=to).collect();
    if got != want.as_slice() {
        let at = got.iter().zip(&want).take_while(|(a, b)| a == b).count();
        let around = |v: &[u64]| v[at.saturating_sub(2)..(at + 3).min(v.len())].to_vec();
        panic!(
            "every index from {from} to {to}, once, in order: got {} indexes, first \
             difference at position {at}: got {:?}, want {:?}",
            got.len(),
            around(got),
            around(&want)
        );
    }
}

/// Messages of a reply that are deliveries (they carry `data`).
fn deliveries(reply: &[Value]) -> impl Iterator<Item = Value> + '_ {
    reply
        .iter()
        .filter(|m| m.get("data").is_some())
        .map(|m| m["data"].clone())
}

/// A long-polling Bayeux client.
pub struct Lp {
    http: reqwest::Client,
    url: String,
    headers: Headers,
    pub client_id: String,
    id: AtomicU64,
    /// The `data` of every delivery received.
    pub notes: Mutex<Vec<Value>>,
}

impl Lp {
    /// A client with `headers` on every request, not yet handshaken.
    pub fn new(url: &str, headers: Headers) -> R<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()?,
            url: url.to_owned(),
            headers,
            client_id: String::new(),
            id: AtomicU64::new(1),
            notes: Mutex::default(),
        })
    }

    /// POSTs `msgs` as they are; returns (HTTP status, reply array).
    pub async fn post(&self, msgs: &Value) -> R<(u16, Vec<Value>)> {
        let mut rb = self.http.post(&self.url).json(msgs);
        for (k, v) in &self.headers {
            rb = rb.header(*k, v);
        }
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let reply: Vec<Value> = r.json().await?;
        let mut notes = self.notes.lock().unwrap_or_else(PoisonError::into_inner);
        notes.extend(deliveries(&reply));
        Ok((status, reply))
    }

    /// Handshakes; returns the handshake reply (successful or not; a request refused as a
    /// whole answers on `/meta/unknown`).
    pub async fn try_handshake(&mut self) -> R<Value> {
        let hs = json!([{"channel": "/meta/handshake", "version": "1.0",
                         "supportedConnectionTypes": ["long-polling"], "id": "0"}]);
        let (_, reply) = self.post(&hs).await?;
        let h = reply
            .iter()
            .find(|m| m["channel"] == "/meta/handshake")
            .or(reply.first())
            .cloned()
            .ok_or("no handshake reply")?;
        if h["successful"] == true {
            self.client_id = h["clientId"].as_str().ok_or("no clientId")?.to_owned();
        }
        Ok(h)
    }

    /// Handshakes and makes the first connect (answered at once).
    pub async fn start(url: &str, headers: Headers) -> R<Arc<Self>> {
        let mut c = Self::new(url, headers)?;
        let h = c.try_handshake().await?;
        if h["successful"] != true {
            return Err(format!("handshake refused: {h}").into());
        }
        let first = c.connect().await?;
        if first["successful"] != true {
            return Err(format!("first connect refused: {first}").into());
        }
        Ok(Arc::new(c))
    }

    /// Sends one message with this client's id; returns the reply array.
    pub async fn send(&self, mut msg: Value) -> R<Vec<Value>> {
        msg["clientId"] = json!(self.client_id);
        msg["id"] = json!(self.id.fetch_add(1, Ordering::Relaxed).to_string());
        Ok(self.post(&json!([msg])).await?.1)
    }

    /// Publishes `data` on `channel`; returns the publish reply.
    pub async fn publish(&self, channel: &str, data: Value) -> R<Value> {
        let reply = self.send(json!({"channel": channel, "data": data})).await?;
        reply
            .into_iter()
            .find(|m| m["channel"] == channel && m.get("successful").is_some())
            .ok_or_else(|| "no publish reply".into())
    }

    /// One `/meta/connect`; returns its reply (deliveries land in `notes`).
    pub async fn connect(&self) -> R<Value> {
        let reply = self
            .send(json!({"channel": "/meta/connect", "connectionType": "long-polling"}))
            .await?;
        reply
            .into_iter()
            .find(|m| m["channel"] == "/meta/connect")
            .ok_or_else(|| "no connect reply".into())
    }

    /// Keeps connecting until aborted or the server stops answering with success.
    pub fn connect_forever(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                match me.connect().await {
                    Ok(r) if r["successful"] == true => {}
                    _ => return,
                }
            }
        })
    }

    /// A copy of the notifications received so far.
    pub fn notes(&self) -> Vec<Value> {
        self.notes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A WebSocket Bayeux client that reads only when told to.
pub struct Ws {
    ws: WebSocketStream<TcpStream>,
    pub client_id: String,
    id: u64,
    /// The `data` of every delivery received.
    pub notes: Vec<Value>,
    /// Every other message received (meta and publish replies).
    pub replies: Vec<Value>,
    /// Send the next `/meta/connect` whenever one is answered.
    pub keep_connecting: bool,
}

/// Why a WebSocket could not be opened.
pub enum Refused {
    /// The upgrade was answered with this HTTP status.
    Status(u16),
}

impl Ws {
    /// Opens the socket with `headers` on the upgrade; `rcvbuf` shrinks the receive buffer
    /// (so a client that stops reading makes the server's sends block soon).
    pub async fn open(
        server: &Server,
        headers: &Headers,
        rcvbuf: Option<u32>,
    ) -> R<Result<Self, Refused>> {
        let host = server.base.trim_start_matches("http://");
        let mut req = format!("ws://{host}/genesys/cometd").into_client_request()?;
        for (k, v) in headers {
            req.headers_mut()
                .insert(HeaderName::from_static(k), HeaderValue::from_str(v)?);
        }
        let socket = TcpSocket::new_v4()?;
        if let Some(n) = rcvbuf {
            socket.set_recv_buffer_size(n)?;
        }
        let stream = socket.connect(host.parse()?).await?;
        // Room for long transcripts answered in large pages.
        let config = WebSocketConfig::default()
            .max_message_size(Some(256 << 20))
            .max_frame_size(Some(256 << 20));
        match client_async_with_config(req, stream, Some(config)).await {
            Ok((ws, _)) => Ok(Ok(Self {
                ws,
                client_id: String::new(),
                id: 1,
                notes: Vec::new(),
                replies: Vec::new(),
                keep_connecting: true,
            })),
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                Ok(Err(Refused::Status(r.status().as_u16())))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Opens the socket, which must be accepted.
    pub async fn open_ok(server: &Server, headers: &Headers, rcvbuf: Option<u32>) -> R<Self> {
        match Self::open(server, headers, rcvbuf).await? {
            Ok(ws) => Ok(ws),
            Err(Refused::Status(s)) => Err(format!("upgrade refused with {s}").into()),
        }
    }

    /// Sends one message (with this client's id once it has one).
    pub async fn send(&mut self, mut msg: Value) -> R {
        if !self.client_id.is_empty() && msg.get("clientId").is_none() {
            msg["clientId"] = json!(self.client_id);
        }
        msg["id"] = json!(self.id.to_string());
        self.id += 1;
        self.ws
            .send(Frame::Text(json!([msg]).to_string().into()))
            .await?;
        Ok(())
    }

    /// Reads frames until `done` holds, for at most `secs` seconds.
    pub async fn pump(&mut self, what: &str, secs: u64, done: impl Fn(&Self) -> bool) -> R {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while !done(self) {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .map_err(|_| format!("timed out waiting for {what}"))?
                .ok_or_else(|| format!("socket closed waiting for {what}"))??;
            let Frame::Text(t) = frame else { continue };
            let msgs: Vec<Value> = serde_json::from_str(&t)?;
            let mut reconnect = false;
            for m in msgs {
                if m.get("data").is_some() {
                    self.notes.push(m["data"].clone());
                } else {
                    reconnect |= m["channel"] == "/meta/connect" && m["successful"] == true;
                    self.replies.push(m);
                }
            }
            if reconnect && self.keep_connecting {
                self.send(json!({"channel": "/meta/connect", "connectionType": "websocket"}))
                    .await?;
            }
        }
        Ok(())
    }

    /// The last reply on `channel`, if any.
    pub fn reply(&self, channel: &str) -> Option<&Value> {
        self.replies.iter().rev().find(|m| m["channel"] == channel)
    }

    /// Handshakes and sends the first connect; returns the handshake reply.
    pub async fn handshake(&mut self) -> R<Value> {
        let before = self.replies.len();
        self.send(json!({"channel": "/meta/handshake", "version": "1.0",
                         "supportedConnectionTypes": ["websocket"]}))
            .await?;
        self.pump("handshake reply", 10, |w| {
            w.replies[before..]
                .iter()
                .any(|m| m["channel"] == "/meta/handshake")
        })
        .await?;
        let h = self.reply("/meta/handshake").cloned().ok_or("no reply")?;
        if h["successful"] == true {
            self.client_id = h["clientId"].as_str().ok_or("no clientId")?.to_owned();
            self.send(json!({"channel": "/meta/connect", "connectionType": "websocket"}))
                .await?;
        }
        Ok(h)
    }

    /// Publishes `data` on `channel` and reads until its reply arrives.
    pub async fn publish(&mut self, channel: &str, data: Value) -> R<Value> {
        let before = self.replies.len();
        self.send(json!({"channel": channel, "data": data})).await?;
        self.pump("publish reply", 10, |w| {
            w.replies[before..].iter().any(|m| m["channel"] == channel)
        })
        .await?;
        self.reply(channel)
            .cloned()
            .ok_or_else(|| "no publish reply".into())
    }

    /// Reads until some notification satisfies `pred`; returns it.
    pub async fn note(&mut self, what: &str, secs: u64, pred: impl Fn(&Value) -> bool) -> R<Value> {
        self.pump(what, secs, |w| w.notes.iter().any(&pred)).await?;
        self.notes
            .iter()
            .find(|n| pred(n))
            .cloned()
            .ok_or_else(|| "vanished".into())
    }
}

/// An error notification's GMS code (`statusCode: 2`, `errors[0].code`).
pub fn error_code(n: &Value) -> Option<u64> {
    (n["statusCode"] == 2)
        .then(|| n["errors"][0]["code"].as_u64())
        .flatten()
}

/// `open_sessions` of `/health`.
pub async fn open_sessions(server: &Server) -> R<u64> {
    let v: Value = reqwest::Client::new()
        .get(format!("{}/health", server.base))
        .timeout(Duration::from_secs(10))
        .send()
        .await?
        .json()
        .await?;
    v["open_sessions"]
        .as_u64()
        .ok_or_else(|| format!("no open_sessions in {v}").into())
}
