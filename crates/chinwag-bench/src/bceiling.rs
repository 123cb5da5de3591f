//! The Bayeux ceiling: the least work a server can do for the `bayeux` scenario's traffic
//! on this machine, run in the same place as the measured servers (its own process, pinned
//! to CPU 0, one thread). It speaks just enough Bayeux for the load generator: handshake,
//! subscribe, publish (fanned out to each room's members) and connect, over HTTP long-polling
//! (keep-alive, one request at a time) and WebSocket. No sessions timeouts, no validation,
//! no ack or extensions, no cookies, no locks: nothing real can deliver sooner, so its
//! latency is the floor that the machine's loopback TCP and the generator set, and the
//! measured servers are read against it.

use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One client: the deliveries waiting for it (each followed by a comma), its wake-up, and
/// whether a connect was answered yet (the first is answered at once, as in Bayeux).
struct Client {
    queue: Vec<u8>,
    wake: Rc<Notify>,
    connected: bool,
}

/// Every client and room of the process.
#[derive(Default)]
struct Hub {
    clients: Vec<Client>,
    rooms: HashMap<String, Vec<usize>>,
}

type Shared = Rc<RefCell<Hub>>;

/// What a batch of messages asks for: the replies to send now (each followed by a comma),
/// and a connect to answer once the client has something queued.
struct Handled {
    replies: Vec<u8>,
    connect: Option<(usize, String)>,
}

/// Serves the ceiling on `listen` until the process is killed.
pub(crate) async fn serve(listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let hub = Shared::default();
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                let hub = hub.clone();
                tokio::task::spawn_local(async move {
                    let mut first = [0u8; 4];
                    let ws = matches!(stream.peek(&mut first).await, Ok(4) if &first == b"GET ");
                    let _ = if ws {
                        websocket(hub, stream).await
                    } else {
                        long_polling(hub, stream).await
                    };
                });
            }
        })
        .await
}

fn handle(hub: &Shared, batch: &[u8]) -> anyhow::Result<Handled> {
    let mut replies = Vec::new();
    // The hot path (one connect) is read by scanning, as a lean server would.
    if batch.starts_with(br#"[{"channel":"/meta/connect""#) {
        let client = field(batch, br#""clientId":""#)?;
        let client = client.strip_prefix('c').unwrap_or(client).parse()?;
        let id = field(batch, br#""id":""#)?.to_owned();
        return Ok(Handled {
            replies,
            connect: Some((client, id)),
        });
    }
    let msgs: Vec<Value> = serde_json::from_slice(batch)?;
    let mut h = hub.borrow_mut();
    for m in msgs {
        let channel = m["channel"].as_str().unwrap_or("");
        let reply = match channel {
            "/meta/handshake" => {
                let n = h.clients.len();
                h.clients.push(Client {
                    queue: Vec::new(),
                    wake: Rc::new(Notify::new()),
                    connected: false,
                });
                json!({"channel":channel,"successful":true,"version":"1.0","supportedConnectionTypes":["long-polling","websocket"],"clientId":format!("c{n}"),"id":m["id"]})
            }
            "/meta/subscribe" => {
                let client = client_of(&m)?;
                let room = m["subscription"].as_str().unwrap_or("").to_owned();
                h.rooms.entry(room).or_default().push(client);
                json!({"channel":channel,"successful":true,"subscription":m["subscription"],"id":m["id"]})
            }
            _ => {
                let out = json!({"channel":channel,"data":m["data"]}).to_string();
                let Hub { clients, rooms } = &mut *h;
                for &c in rooms.get(channel).into_iter().flatten() {
                    if let Some(c) = clients.get_mut(c) {
                        c.queue.extend_from_slice(out.as_bytes());
                        c.queue.push(b',');
                        c.wake.notify_one();
                    }
                }
                json!({"channel":channel,"successful":true,"id":m["id"]})
            }
        };
        replies.extend_from_slice(reply.to_string().as_bytes());
        replies.push(b',');
    }
    Ok(Handled {
        replies,
        connect: None,
    })
}

fn client_of(m: &Value) -> anyhow::Result<usize> {
    let id = m["clientId"].as_str().unwrap_or("");
    Ok(id.strip_prefix('c').unwrap_or(id).parse()?)
}

/// The string value after `key` (`"name":"`) in `text` (no escapes in the generator's
/// messages).
fn field<'a>(text: &'a [u8], key: &[u8]) -> anyhow::Result<&'a str> {
    let at =
        memchr::memmem::find(text, key).ok_or_else(|| anyhow::anyhow!("no field"))? + key.len();
    let len = memchr::memchr(b'"', &text[at..]).ok_or_else(|| anyhow::anyhow!("bad field"))?;
    Ok(std::str::from_utf8(&text[at..at + len])?)
}

/// Waits until `client` has deliveries (unless it is its first connect), and returns them
/// followed by the connect reply, closing the JSON array opened by the caller.
async fn answer_connect(hub: &Shared, client: usize, id: &str, out: &mut Vec<u8>) {
    loop {
        let wake = {
            let mut h = hub.borrow_mut();
            let Some(c) = h.clients.get_mut(client) else {
                break;
            };
            if !c.queue.is_empty() || !c.connected {
                c.connected = true;
                out.append(&mut c.queue);
                break;
            }
            c.wake.clone()
        };
        wake.notified().await;
    }
    out.extend_from_slice(br#"{"channel":"/meta/connect","successful":true,"id":""#);
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(b"\"}]");
}

/// Ends a reply array whose items are each followed by a comma.
fn close_array(out: &mut Vec<u8>) {
    if out.last() == Some(&b',') {
        out.pop();
    }
    out.push(b']');
}

async fn long_polling(hub: Shared, mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(4096);
    loop {
        let Some(head) = read_head(&mut stream, &mut buf).await? else {
            return Ok(());
        };
        let (length, _) = crate::rawhttp::framing(&buf[..head])?;
        while buf.len() < head + length {
            if stream.read_buf(&mut buf).await? == 0 {
                return Ok(());
            }
        }
        let handled = handle(&hub, &buf[head..head + length])?;
        buf.drain(..head + length);
        out.clear();
        out.push(b'[');
        out.extend_from_slice(&handled.replies);
        match handled.connect {
            Some((client, id)) => answer_connect(&hub, client, &id, &mut out).await,
            None => close_array(&mut out),
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            out.len()
        );
        out.splice(0..0, head.into_bytes());
        stream.write_all(&out).await?;
    }
}

/// A WebSocket connection, framed by hand (one text frame per reply array or flush of
/// deliveries, written with one `write` each); client frames are unmasked in place.
async fn websocket(hub: Shared, mut stream: TcpStream) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let Some(head) = read_head(&mut stream, &mut buf).await? else {
        return Ok(());
    };
    let key = std::str::from_utf8(&buf[..head])?
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, v)| v.trim().to_owned())
        .ok_or_else(|| anyhow::anyhow!("no Sec-WebSocket-Key"))?;
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n"
    );
    stream.write_all(answer.as_bytes()).await?;
    buf.drain(..head);
    // This connection's client, once its first connect was answered.
    let mut me: Option<(usize, Rc<Notify>)> = None;
    let mut out = Vec::with_capacity(4096);
    loop {
        while let Some((at, len, total)) = unmask_frame(&mut buf) {
            if buf[0] != 0x81 {
                return Ok(());
            }
            let handled = handle(&hub, &buf[at..at + len])?;
            buf.drain(..total);
            let mut reply = vec![b'['];
            reply.extend_from_slice(&handled.replies);
            match handled.connect {
                // The first connect is answered at once; later ones are held (unanswered:
                // deliveries go out as they come, as over any WebSocket Bayeux server).
                Some((client, id)) if me.is_none() => {
                    let wake = hub.borrow().clients.get(client).map(|c| c.wake.clone());
                    me = wake.map(|w| (client, w));
                    answer_connect(&hub, client, &id, &mut reply).await;
                }
                Some(_) => continue,
                None => close_array(&mut reply),
            }
            out.clear();
            text_frame(&reply, &mut out);
            stream.write_all(&out).await?;
        }
        let wake = me.as_ref().map(|(_, w)| w.clone());
        tokio::select! {
            r = stream.read_buf(&mut buf) => if r? == 0 { return Ok(()) },
            () = async { match &wake { Some(w) => w.notified().await, None => std::future::pending().await } } => {
                let Some((c, _)) = &me else { continue };
                let q = hub.borrow_mut().clients.get_mut(*c).map(|c| std::mem::take(&mut c.queue));
                if let Some(mut q) = q && !q.is_empty() {
                    q.insert(0, b'[');
                    close_array(&mut q);
                    out.clear();
                    text_frame(&q, &mut out);
                    stream.write_all(&out).await?;
                }
            }
        }
    }
}

/// Finds one whole client frame at the start of `buf` and unmasks its payload in place:
/// (payload start, payload length, frame length). Only unfragmented text frames come from
/// the generator; anything else (its close) ends the connection.
fn unmask_frame(buf: &mut [u8]) -> Option<(usize, usize, usize)> {
    let (_, start, end) = crate::rawws::frame_at(buf)?;
    if buf[1] & 0x80 != 0 {
        let key: [u8; 4] = buf[start - 4..start].try_into().ok()?;
        for (i, b) in buf[start..end].iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    Some((start, end - start, end))
}

/// Reads until `buf` holds a whole request head; its length, or `None` if the peer closed.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<Option<usize>> {
    loop {
        if let Some(i) = memchr::memmem::find(buf, b"\r\n\r\n") {
            return Ok(Some(i + 4));
        }
        if stream.read_buf(buf).await? == 0 {
            return Ok(None);
        }
    }
}

/// Appends an unmasked server text frame holding `payload` to `out`.
fn text_frame(payload: &[u8], out: &mut Vec<u8>) {
    out.push(0x81);
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= 0xffff => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}
