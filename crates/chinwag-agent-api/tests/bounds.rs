//! The agent API's time and size bounds over real sockets, hosted by `chinwag-http` as the
//! binary hosts it but with short intervals: the event stream's ping, pong deadline, send
//! timeout and inbound message cap, and the `408` of a request body that misses its deadline.

use chinwag_agent_api::{AgentState, router};
use chinwag_core::ChatEngine;
use chinwag_core::bus::BusEvent;
use chinwag_core::ids::{AgentId, ChatId, NodeAlias, QueueName};
use chinwag_core::memstore::MemoryStore;
use chinwag_core::ports::SystemClock;
use chinwag_core::settings::{AgentAccount, AgentRole, EngineSettings, QueueSettings};
use chinwag_http::{Conn, ConnStats, ConnectionFront, Linger, Outcome, Settings, Timeouts};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::CancellationToken;

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;
type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

const TOKEN: &str = "tok";
const WAIT: Duration = Duration::from_secs(20);

/// Never used: the server is started without a front.
#[derive(Clone)]
struct NoFront;

impl ConnectionFront for NoFront {
    async fn serve(
        &self,
        _: &mut Conn,
        _: SocketAddr,
        _: Timeouts,
        _: &CancellationToken,
    ) -> Outcome {
        Outcome::Handoff(Vec::new())
    }
}

struct Running {
    addr: SocketAddr,
    engine: Arc<ChatEngine>,
    stats: Arc<ConnStats>,
    stop: CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Serves the agent API with one agent (`a1`, token `tok`); `tune` sets the limits.
async fn start(tune: impl FnOnce(&mut AgentState)) -> R<Running> {
    let settings = EngineSettings {
        alias: NodeAlias(1),
        services: Vec::new(),
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: vec![AgentAccount {
            id: AgentId::new("a1"),
            name: "Alice".into(),
            token: TOKEN.into(),
            queues: vec![QueueName::new("q")],
            capacity: 1,
            role: AgentRole::Agent,
        }],
        ended_retention_ms: 0,
        push: Default::default(),
        desk: Default::default(),
    };
    let store = Arc::new(MemoryStore::default());
    let engine = ChatEngine::open(settings, store, Arc::new(SystemClock)).await?;
    let stop = CancellationToken::new();
    let mut state = AgentState::new(engine.agents(), stop.clone());
    tune(&mut state);
    let mut http = Settings::default();
    http.timeouts.body = Duration::from_millis(300);
    http.linger = Linger {
        time: Duration::from_millis(100),
        bytes: 1 << 20,
    };
    let server = chinwag_http::Server::new(http, Arc::default());
    let stats = server.stats();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(server.serve(listener, router(state), None::<NoFront>, stop.clone()));
    Ok(Running {
        addr,
        engine,
        stats,
        stop,
    })
}

/// Opens the event stream on a socket with a small receive buffer; reads the first frame.
async fn connect(run: &Running, read_hello: bool) -> R<Ws> {
    let sock = TcpSocket::new_v4()?;
    sock.set_recv_buffer_size(4096)?;
    let tcp = sock.connect(run.addr).await?;
    let url = format!("ws://{}/agent/v1/events?token={TOKEN}", run.addr);
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await?;
    if read_hello {
        let hello = next(&mut ws).await?.ok_or("closed before the status")?;
        let v: Value = serde_json::from_str(hello.to_text()?)?;
        assert_eq!(v["type"], "status", "{v}");
    }
    Ok(ws)
}

/// The next frame, `None` once the stream ended (closed or failed); bounded by [`WAIT`].
async fn next(ws: &mut Ws) -> R<Option<Message>> {
    Ok(match tokio::time::timeout(WAIT, ws.next()).await? {
        Some(Ok(m)) => Some(m),
        Some(Err(_)) | None => None,
    })
}

/// Waits until the server holds no connection (the stream was dropped and its socket let go).
async fn until_no_connection(run: &Running, mut meanwhile: impl FnMut()) -> R {
    let deadline = tokio::time::Instant::now() + WAIT;
    while run.stats.open.load(Ordering::Relaxed) > 0 {
        if tokio::time::Instant::now() > deadline {
            return Err("the server still holds the connection".into());
        }
        meanwhile();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

fn ready_event(ready: bool) -> BusEvent {
    BusEvent::AgentState {
        agent_id: AgentId::new("a1"),
        ready,
        reason: None,
    }
}

#[tokio::test]
async fn a_silent_agent_is_pinged_then_closed() -> R {
    let run = start(|st| {
        st.ping_after = Duration::from_millis(200);
        st.pong_timeout = Duration::from_millis(200);
    })
    .await?;
    // Not reading: no pong goes back.
    let mut ws = connect(&run, false).await?;
    until_no_connection(&run, || {}).await?;
    assert!(matches!(next(&mut ws).await?, Some(Message::Text(_))));
    assert!(matches!(next(&mut ws).await?, Some(Message::Ping(_))));
    match next(&mut ws).await? {
        Some(Message::Close(Some(f))) => {
            assert_eq!(f.code, CloseCode::Away);
            assert_eq!(f.reason.as_str(), "no answer to ping");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn an_agent_that_answers_pings_stays_connected() -> R {
    let run = start(|st| {
        st.ping_after = Duration::from_millis(100);
        st.pong_timeout = Duration::from_millis(100);
    })
    .await?;
    // Reading answers every ping (the client library pongs by itself).
    let mut ws = connect(&run, true).await?;
    let mut pings = 0;
    while pings < 4 {
        match next(&mut ws).await? {
            Some(Message::Ping(_)) => pings += 1,
            Some(Message::Pong(_)) => {}
            other => panic!("expected pings on a live stream, got {other:?}"),
        }
    }
    run.engine.bus().publish(ready_event(true));
    loop {
        match next(&mut ws).await? {
            Some(Message::Text(t)) => {
                let v: Value = serde_json::from_str(t.as_str())?;
                assert_eq!((&v["type"], &v["ready"]), (&"state".into(), &true.into()));
                return Ok(());
            }
            Some(Message::Ping(_) | Message::Pong(_)) => {}
            other => panic!("the stream ended: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_stuck_agent_socket_is_dropped_after_the_send_timeout() -> R {
    let run = start(|st| {
        st.ping_after = Duration::from_secs(600);
        st.send_timeout = Duration::from_millis(200);
    })
    .await?;
    // Connected, never reading: once the socket buffers fill, a send cannot finish.
    let _ws = connect(&run, true).await?;
    let text: Arc<str> = "p".repeat(60 * 1024).into();
    let agents: Arc<[AgentId]> = vec![AgentId::new("a1")].into();
    let bus = run.engine.bus().clone();
    until_no_connection(&run, || {
        bus.publish(BusEvent::TypingPreview {
            chat_id: ChatId::new("c1"),
            agents: agents.clone(),
            text: text.clone(),
        })
    })
    .await
}

#[tokio::test]
async fn an_oversized_message_from_the_agent_ends_the_stream() -> R {
    let run = start(|st| st.max_body_bytes = 1024).await?;
    let mut ws = connect(&run, true).await?;
    ws.send(Message::text("x".repeat(512))).await?;
    run.engine.bus().publish(ready_event(false));
    assert!(matches!(next(&mut ws).await?, Some(Message::Text(_))));
    ws.send(Message::text("x".repeat(2048))).await?;
    loop {
        match next(&mut ws).await? {
            None | Some(Message::Close(_)) => return Ok(()),
            Some(Message::Ping(_) | Message::Pong(_)) => {}
            Some(other) => panic!("expected the stream to end, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_body_that_misses_its_deadline_is_a_408() -> R {
    let run = start(|_| {}).await?;
    let mut s = TcpStream::connect(run.addr).await?;
    let head = format!(
        "PUT /agent/v1/state HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\n\
         content-length: 100\r\n\r\n{{\"ready\":"
    );
    s.write_all(head.as_bytes()).await?;
    let mut got = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut got)).await??;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let (_, body) = text.split_once("\r\n\r\n").ok_or("no body")?;
    let v: Value = serde_json::from_str(body)?;
    assert_eq!(v["error"]["code"], "timeout", "{v}");
    Ok(())
}
