//! Supervision over real sockets: the agent API hosted by `chinwag-http` on a loopback port,
//! over an engine on the in-memory store (the customer acts through the engine's own
//! handle). Agents `a1` (token `tok1`) and `a2` (`tok2`), supervisor `boss` (`tokb`).

mod serve;

use chinwag_agent_api::{AgentState, router};
use chinwag_core::ChatEngine;
use chinwag_core::engine::ChatView;
use chinwag_core::ids::EventIndex;
use chinwag_core::ids::{AgentId, NodeAlias, QueueName, ServiceName};
use chinwag_core::memstore::MemoryStore;
use chinwag_core::ports::SystemClock;
use chinwag_core::roles::customers::{Credentials, NewChat, Selection};
use chinwag_core::roles::{Agents, Customers};
use chinwag_core::settings::{
    AgentAccount, AgentRole, EngineSettings, QueueSettings, ServiceLimits, ServiceSettings,
};
use chinwag_http::Settings;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;
type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(20);

struct App {
    addr: SocketAddr,
    agents: Agents,
    customers: Customers,
    http: reqwest::Client,
    stop: CancellationToken,
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn account(id: &str, token: &str, role: AgentRole) -> AgentAccount {
    AgentAccount {
        id: AgentId::new(id),
        name: id.to_uppercase(),
        token: token.into(),
        queues: vec![QueueName::new("q")],
        capacity: 2,
        role,
    }
}

async fn start() -> R<App> {
    let settings = EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 10,
            max_message_length: 200,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits: ServiceLimits::default(),
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: vec![
            account("a1", "tok1", AgentRole::Agent),
            account("a2", "tok2", AgentRole::Agent),
            account("boss", "tokb", AgentRole::Supervisor),
        ],
        ended_retention_ms: 60_000,
        push: Default::default(),
        desk: Default::default(),
    };
    let engine = ChatEngine::open(
        settings,
        Arc::new(MemoryStore::default()),
        Arc::new(SystemClock),
    )
    .await?;
    let stop = CancellationToken::new();
    let state = AgentState::new(engine.agents(), stop.clone());
    let addr = serve::serve(Settings::default(), router(state), &stop).await?;
    Ok(App {
        addr,
        agents: engine.agents(),
        customers: engine.customers(),
        http: reqwest::Client::builder().timeout(WAIT).build()?,
        stop,
    })
}

impl App {
    /// `method path` as `token`'s account: the status and the JSON answer (`null` if none).
    async fn call(&self, method: Method, token: &str, path: &str) -> R<(u16, Value)> {
        let url = format!("http://{}/agent/v1{path}", self.addr);
        let mut req = self.http.request(method.clone(), url).bearer_auth(token);
        if method == Method::POST && path.ends_with("/messages") {
            req = req.json(&json!({"text": "hello"}));
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        };
        Ok((status, v))
    }

    async fn post(&self, token: &str, path: &str) -> R<(u16, Value)> {
        self.call(Method::POST, token, path).await
    }

    async fn chat(&self, nick: &str) -> R<ChatView> {
        let req = NewChat {
            service: "svc".into(),
            nickname: Some(nick.into()),
            ..NewChat::default()
        };
        Ok(self.customers.request_chat(req, Selection::Nothing).await?)
    }

    /// The customer's view of its chat, every event.
    async fn customer(&self, v: &ChatView) -> R<ChatView> {
        let service = ServiceName::new("svc");
        let creds = Credentials {
            service: &service,
            chat_id: &v.chat_id,
            user_id: Some(&v.user_id),
            key: &v.secure_key,
            origin: None,
        };
        Ok(self
            .customers
            .read(creds, Selection::From(EventIndex(1)))
            .await?)
    }

    /// The event stream of `token`'s account, past its first (status) frame.
    async fn stream(&self, token: &str) -> R<Ws> {
        let url = format!("ws://{}/agent/v1/events?token={token}", self.addr);
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
        let hello = next(&mut ws).await?;
        assert_eq!(hello["type"], "status", "{hello}");
        Ok(ws)
    }
}

/// The next JSON frame of a stream.
async fn next(ws: &mut Ws) -> R<Value> {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await?
            .ok_or("the stream ended")??;
        if let Message::Text(t) = frame {
            return Ok(serde_json::from_str(t.as_str())?);
        }
    }
}

/// The next frame of `ws` that `want` accepts.
async fn next_where(ws: &mut Ws, want: impl Fn(&Value) -> bool) -> R<Value> {
    loop {
        let v = next(ws).await?;
        if want(&v) {
            return Ok(v);
        }
    }
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn supervision_is_for_supervisors_and_monitoring_for_logged_in_ones() -> R {
    let app = start().await?;
    let v = app.chat("Jo").await?;
    let chat = v.chat_id.as_str();
    for (method, path) in [
        (Method::GET, "/supervisor".to_owned()),
        (Method::POST, format!("/chats/{chat}/monitor")),
        (Method::POST, format!("/chats/{chat}/take-over")),
    ] {
        let (s, body) = app.call(method, "tok1", &path).await?;
        assert_eq!((s, code(&body)), (403, "forbidden"), "{path}: {body}");
    }
    let (s, body) = app.post("tokb", &format!("/chats/{chat}/monitor")).await?;
    assert_eq!((s, code(&body)), (409, "not_logged_in"), "{body}");
    let (s, body) = app.call(Method::GET, "nope", "/supervisor").await?;
    assert_eq!((s, code(&body)), (401, "unauthorized"), "{body}");
    app.post("tokb", "/login").await?;
    let (s, body) = app.post("tokb", "/chats/unknown/monitor").await?;
    assert_eq!((s, code(&body)), (404, "not_in_chat"), "{body}");
    // A supervisor reads any chat; an agent only its own.
    let (s, body) = app
        .call(Method::GET, "tokb", &format!("/chats/{chat}"))
        .await?;
    assert_eq!((s, body["chat_id"].as_str()), (200, Some(chat)), "{body}");
    let (s, body) = app
        .call(Method::GET, "tok2", &format!("/chats/{chat}"))
        .await?;
    assert_eq!((s, code(&body)), (404, "not_in_chat"), "{body}");
    Ok(())
}

#[tokio::test]
async fn the_overview_shows_queues_agents_with_their_load_and_live_chats() -> R {
    let app = start().await?;
    app.post("tok1", "/login").await?;
    let a1 = AgentId::new("a1");
    app.agents.set_ready(&a1, true).await?;
    // A few milliseconds apart, so the order by age is certain.
    let tick = || tokio::time::sleep(Duration::from_millis(5));
    let active = app.chat("Ann").await?;
    app.agents.accept(&a1, &active.chat_id).await?;
    tick().await;
    let offered = app.chat("Bob").await?;
    app.agents.set_ready(&a1, false).await?;
    tick().await;
    let waiting = app.chat("Cy").await?;
    let (s, o) = app.call(Method::GET, "tokb", "/supervisor").await?;
    assert_eq!(s, 200, "{o}");
    let q = &o["queues"][0];
    assert_eq!(
        (&q["queue"], &q["waiting"], &q["offered"]),
        (&json!("q"), &json!(1), &json!(1)),
        "{o}"
    );
    assert!(
        q["longest_wait_ms"].as_i64().is_some_and(|ms| ms >= 0),
        "{o}"
    );
    let a = &o["agents"][0];
    assert_eq!(
        (&a["id"], &a["load"], &a["logged_in"]),
        (&json!("a1"), &json!(2), &json!(true)),
        "{o}"
    );
    assert_eq!(a["capacity"], 2, "the status of GET /me: {o}");
    assert_eq!(o["agents"][2]["load"], 0, "{o}");
    let lines: Vec<(&str, &str)> = o["chats"]
        .as_array()
        .ok_or("no chats")?
        .iter()
        .map(|c| {
            (
                c["chat_id"].as_str().unwrap_or(""),
                c["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (active.chat_id.as_str(), "active"),
            (offered.chat_id.as_str(), "offered"),
            (waiting.chat_id.as_str(), "waiting"),
        ],
        "{o}"
    );
    let c = &o["chats"][0];
    assert_eq!(c["agents"], json!([{"id": "a1", "name": "A1"}]), "{o}");
    assert_eq!(
        (&c["service"], &c["queue"]),
        (&json!("svc"), &json!("q")),
        "{o}"
    );
    assert_eq!(
        (&c["customer"], &c["subject"], &c["monitored"]),
        (&json!("Ann"), &json!(null), &json!(false)),
        "{o}"
    );
    assert!(c["since_ms"].is_i64(), "{o}");
    assert_eq!(o["truncated"], false, "{o}");
    Ok(())
}

#[tokio::test]
async fn a_monitor_is_silent_hears_the_chat_may_not_send_and_leaves_silently() -> R {
    let app = start().await?;
    let a1 = AgentId::new("a1");
    app.agents.login(&a1).await?;
    app.agents.set_ready(&a1, true).await?;
    let v = app.chat("Jo").await?;
    app.agents.accept(&a1, &v.chat_id).await?;
    let chat = v.chat_id.as_str();
    app.post("tokb", "/login").await?;
    let mut boss = app.stream("tokb").await?;
    let (s, view) = app.post("tokb", &format!("/chats/{chat}/monitor")).await?;
    assert_eq!(s, 200, "{view}");
    let parties: Vec<&Value> = view["participants"]
        .as_array()
        .ok_or("no participants")?
        .iter()
        .map(|p| &p["party_type"])
        .collect();
    assert_eq!(
        parties,
        [&json!("Client"), &json!("Agent"), &json!("Supervisor")],
        "{view}"
    );
    let (s, again) = app.post("tokb", &format!("/chats/{chat}/monitor")).await?;
    assert_eq!(
        (s, &again["participants"]),
        (200, &view["participants"]),
        "idempotent"
    );
    let seen = app.customer(&v).await?;
    assert!(seen.monitored);
    assert_eq!(seen.events.len(), 2, "no event for the monitor");
    // The agent's message reaches the supervisor's stream.
    let (s, _) = app.post("tok1", &format!("/chats/{chat}/messages")).await?;
    assert_eq!(s, 200);
    let heard = next(&mut boss).await?;
    assert_eq!(
        (&heard["type"], &heard["event"]["kind"]),
        (&json!("event"), &json!("Message")),
        "{heard}"
    );
    let (s, body) = app.post("tokb", &format!("/chats/{chat}/messages")).await?;
    assert_eq!((s, code(&body)), (409, "monitoring"), "{body}");
    let (s, body) = app.post("tokb", &format!("/chats/{chat}/leave")).await?;
    assert_eq!((s, &body), (200, &json!({"events": []})), "{body}");
    let seen = app.customer(&v).await?;
    assert!(!seen.monitored);
    assert_eq!(seen.events.len(), 3, "the message only");
    // Ended: refused.
    app.post("tok1", &format!("/chats/{chat}/end")).await?;
    let (s, body) = app.post("tokb", &format!("/chats/{chat}/monitor")).await?;
    assert_eq!((s, code(&body)), (409, "chat_ended"), "{body}");
    Ok(())
}

#[tokio::test]
async fn a_take_over_is_heard_by_the_removed_agent_and_withdraws_offers() -> R {
    let app = start().await?;
    let a1 = AgentId::new("a1");
    app.agents.login(&a1).await?;
    app.agents.set_ready(&a1, true).await?;
    let v = app.chat("Jo").await?;
    app.agents.accept(&a1, &v.chat_id).await?;
    let chat = v.chat_id.as_str();
    app.post("tokb", "/login").await?;
    let mut agent = app.stream("tok1").await?;
    let (s, view) = app
        .post("tokb", &format!("/chats/{chat}/take-over"))
        .await?;
    assert_eq!(s, 200, "{view}");
    let kinds: Vec<(&Value, &Value)> = view["events"]
        .as_array()
        .ok_or("no events")?
        .iter()
        .map(|e| (&e["kind"], &e["from"]["nickname"]))
        .collect();
    assert_eq!(
        kinds[2..],
        [
            (&json!("ParticipantJoined"), &json!("BOSS")),
            (&json!("ParticipantLeft"), &json!("A1"))
        ],
        "{view}"
    );
    let left = next_where(&mut agent, |f| f["event"]["kind"] == "ParticipantLeft").await?;
    assert_eq!(
        (&left["chat_id"], &left["event"]["from"]["nickname"]),
        (&json!(chat), &json!("A1")),
        "{left}"
    );
    let (s, me) = app.call(Method::GET, "tokb", "/me").await?;
    assert_eq!((s, &me["chats"]), (200, &json!([chat])), "{me}");
    let (s, body) = app.post("tok1", &format!("/chats/{chat}/messages")).await?;
    assert_eq!((s, code(&body)), (404, "not_in_chat"), "{body}");
    // An offered chat: the offer is withdrawn as taken over.
    let offered = app.chat("Kim").await?;
    let offer = next_where(&mut agent, |f| f["type"] == "offer").await?;
    assert_eq!(offer["chat_id"], offered.chat_id.as_str(), "{offer}");
    let (s, _) = app
        .post(
            "tokb",
            &format!("/chats/{}/take-over", offered.chat_id.as_str()),
        )
        .await?;
    assert_eq!(s, 200);
    let gone = next_where(&mut agent, |f| f["type"] == "offer_withdrawn").await?;
    assert_eq!(
        (&gone["chat_id"], &gone["reason"]),
        (&json!(offered.chat_id.as_str()), &json!("taken_over")),
        "{gone}"
    );
    let (_, me) = app.call(Method::GET, "tok1", "/me").await?;
    assert_eq!(me["offers"], json!([]), "{me}");
    Ok(())
}
