//! The agent's desk over real sockets: not-ready reasons (`GET /presence`, `PUT /state`
//! with a reason, the status's and the stream's `reason`, "Missed offer"), canned responses
//! (`GET /canned`), the chat view's `queue`, and blind transfer (`POST …/transfer`) with
//! every refusal it answers.

mod serve;

use chinwag_agent_api::{AgentState, router};
use chinwag_core::ChatEngine;
use chinwag_core::engine::RoutingWorker;
use chinwag_core::ids::{AgentId, NodeAlias, QueueName, ServiceName};
use chinwag_core::memstore::MemoryStore;
use chinwag_core::ports::SystemClock;
use chinwag_core::roles::customers::{NewChat, Selection};
use chinwag_core::settings::{
    AgentAccount, AgentRole, CannedResponse, DeskSettings, EngineSettings, QueueSettings,
    ServiceSettings,
};
use chinwag_http::Settings;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;
type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(20);

struct App {
    addr: SocketAddr,
    engine: Arc<ChatEngine>,
    http: reqwest::Client,
    stop: CancellationToken,
}

impl Drop for App {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn account(id: &str, queue: &str, capacity: u32, role: AgentRole) -> AgentAccount {
    AgentAccount {
        id: AgentId::new(id),
        name: id.to_uppercase(),
        token: format!("{id}-token"),
        queues: vec![QueueName::new(queue)],
        capacity,
        role,
    }
}

/// Service `svc` → queue `q` (offers lapse after `offer_ms`); queue `q2` has canned
/// responses; `a1` (capacity 5), `a2` (2) serve `q`, `a3` serves `q2`, `boss` supervises;
/// the routing worker runs.
async fn start(offer_ms: i64) -> R<App> {
    let queue = |name: &str| QueueSettings {
        name: QueueName::new(name),
        offer_timeout_ms: offer_ms,
        max_wait_ms: None,
    };
    let settings = EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 10,
            max_message_length: 100,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits: Default::default(),
        }],
        queues: vec![queue("q"), queue("q2")],
        agents: vec![
            account("a1", "q", 5, AgentRole::Agent),
            account("a2", "q", 2, AgentRole::Agent),
            account("a3", "q2", 2, AgentRole::Agent),
            account("boss", "q", 1, AgentRole::Supervisor),
        ],
        ended_retention_ms: 60_000,
        push: Default::default(),
        desk: DeskSettings {
            not_ready_reasons: vec!["Break".into(), "Lunch".into()],
            canned: vec![(
                QueueName::new("q2"),
                vec![CannedResponse {
                    label: "Hi".into(),
                    text: "Hello there".into(),
                }],
            )],
        },
    };
    let engine = ChatEngine::open(
        settings,
        Arc::new(MemoryStore::default()),
        Arc::new(SystemClock),
    )
    .await?;
    let stop = CancellationToken::new();
    tokio::spawn(RoutingWorker::new(engine.clone()).run(stop.clone()));
    let state = AgentState::new(engine.agents(), stop.clone());
    let addr = serve::serve(Settings::default(), router(state), &stop).await?;
    Ok(App {
        addr,
        engine,
        http: reqwest::Client::builder().timeout(WAIT).build()?,
        stop,
    })
}

impl App {
    /// `method path` as `agent` with an optional JSON body: status and JSON answer.
    async fn call(
        &self,
        method: reqwest::Method,
        agent: &str,
        path: &str,
        body: Option<Value>,
    ) -> R<(u16, Value)> {
        let url = format!("http://{}/agent/v1{path}", self.addr);
        let mut req = self
            .http
            .request(method, url)
            .bearer_auth(format!("{agent}-token"));
        if let Some(b) = body {
            req = req.json(&b);
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

    async fn get(&self, agent: &str, path: &str) -> R<(u16, Value)> {
        self.call(reqwest::Method::GET, agent, path, None).await
    }

    async fn post(&self, agent: &str, path: &str, body: Value) -> R<(u16, Value)> {
        self.call(reqwest::Method::POST, agent, path, Some(body))
            .await
    }

    async fn state(&self, agent: &str, body: Value) -> R<(u16, Value)> {
        self.call(reqwest::Method::PUT, agent, "/state", Some(body))
            .await
    }

    async fn login(&self, agent: &str) -> R<Value> {
        let (s, v) = self.post(agent, "/login", Value::Null).await?;
        assert_eq!(s, 200, "{v}");
        Ok(v)
    }

    /// A customer's new chat, accepted by `a1` over the API (then `a1` not ready again).
    async fn chat_with_a1(&self) -> R<String> {
        let new = NewChat {
            service: ServiceName::new("svc"),
            nickname: Some("Bob".into()),
            ..NewChat::default()
        };
        let v = self
            .engine
            .customers()
            .request_chat(new, Selection::Nothing)
            .await?;
        self.login("a1").await?;
        let (s, _) = self.state("a1", json!({"ready": true})).await?;
        assert_eq!(s, 200);
        let chat = v.chat_id.as_str().to_owned();
        let (s, view) = self
            .post("a1", &format!("/offers/{chat}/accept"), Value::Null)
            .await?;
        assert_eq!(s, 200, "{view}");
        assert_eq!(view["queue"], "q", "accept's view names the queue");
        self.state("a1", json!({"ready": false})).await?;
        Ok(chat)
    }

    /// The agent's event stream, its first frame (the status) read.
    async fn stream(&self, agent: &str) -> R<(Ws, Value)> {
        let url = format!("ws://{}/agent/v1/events?token={agent}-token", self.addr);
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
        let hello = next_json(&mut ws).await?;
        assert_eq!(hello["type"], "status", "{hello}");
        Ok((ws, hello))
    }
}

/// The next text frame as JSON (bounded by [`WAIT`]).
async fn next_json(ws: &mut Ws) -> R<Value> {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await?
            .ok_or("stream closed")??;
        if msg.is_text() {
            return Ok(serde_json::from_str(msg.to_text()?)?);
        }
    }
}

/// The next frame of `kind` (others skipped).
async fn next_of(ws: &mut Ws, kind: &str) -> R<Value> {
    loop {
        let v = next_json(ws).await?;
        if v["type"] == kind {
            return Ok(v);
        }
    }
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn reasons_are_listed_given_validated_and_streamed() -> R {
    let app = start(60_000).await?;
    let (s, p) = app.get("a1", "/presence").await?;
    assert_eq!(
        (s, &p),
        (200, &json!({"not_ready_reasons": ["Break", "Lunch"]}))
    );
    let (s, _) = app
        .call(reqwest::Method::GET, "nobody", "/presence", None)
        .await?;
    assert_eq!(s, 401);
    let (s, v) = app.state("a1", json!({"ready": false})).await?;
    assert_eq!((s, code(&v)), (409, "not_logged_in"));
    let (s, me) = app.get("a1", "/me").await?;
    assert_eq!((s, &me["reason"]), (200, &Value::Null), "logged out: null");
    let status = app.login("a1").await?;
    assert_eq!(status["reason"], "Break", "logged in, not ready: the first");
    let (mut ws, hello) = app.stream("a1").await?;
    assert_eq!(hello["status"]["reason"], "Break");
    let (s, v) = app
        .state("a1", json!({"ready": false, "reason": "Lunch"}))
        .await?;
    assert_eq!(
        (s, &v["ready"], &v["reason"]),
        (200, &json!(false), &json!("Lunch"))
    );
    let frame = next_of(&mut ws, "state").await?;
    assert_eq!(
        frame,
        json!({"type": "state", "ready": false, "reason": "Lunch"})
    );
    for bad in [
        json!({"ready": false, "reason": "Nap"}),
        json!({"ready": true, "reason": "Lunch"}),
        json!({"ready": false, "reason": 3}),
    ] {
        let (s, v) = app.state("a1", bad.clone()).await?;
        assert_eq!((s, code(&v)), (400, "bad_request"), "{bad}: {v}");
    }
    assert_eq!(app.get("a1", "/me").await?.1["reason"], "Lunch", "kept");
    let (_, v) = app.state("a1", json!({"ready": true})).await?;
    assert_eq!((&v["ready"], &v["reason"]), (&json!(true), &Value::Null));
    let frame = next_of(&mut ws, "state").await?;
    assert_eq!(
        frame,
        json!({"type": "state", "ready": true, "reason": null})
    );
    Ok(())
}

#[tokio::test]
async fn canned_responses_are_those_of_the_served_queues() -> R {
    let app = start(60_000).await?;
    let (s, v) = app.get("a3", "/canned").await?;
    let expected = json!({"queues": [{"queue": "q2", "responses": [
        {"label": "Hi", "text": "Hello there"}]}]});
    assert_eq!((s, &v), (200, &expected));
    let (_, v) = app.get("a1", "/canned").await?;
    assert_eq!(v, json!({"queues": [{"queue": "q", "responses": []}]}));
    let (_, v) = app.get("boss", "/canned").await?;
    let queues: Vec<&Value> = v["queues"].as_array().into_iter().flatten().collect();
    assert_eq!(queues.len(), 2, "a supervisor sees every queue: {v}");
    assert_eq!(
        (&queues[0]["queue"], &queues[1]["queue"]),
        (&json!("q"), &json!("q2"))
    );
    let (s, v) = app.post("a1", "/canned", json!({})).await?;
    assert_eq!((s, code(&v)), (405, "method_not_allowed"));
    Ok(())
}

#[tokio::test]
async fn transfer_refusals_change_nothing() -> R {
    let app = start(60_000).await?;
    let chat = app.chat_with_a1().await?;
    let path = format!("/chats/{chat}/transfer");
    let cases = [
        (json!({}), 400, "bad_request"),
        (json!({"queue": "q2", "agent": "a2"}), 400, "bad_request"),
        (json!({"queue": "q2", "extra": 1}), 400, "bad_request"),
        (json!({"queue": "nope"}), 404, "no_such_queue"),
        (json!({"agent": "nobody"}), 404, "no_such_agent"),
        (json!({"agent": "a2"}), 409, "agent_unavailable"),
        (json!({"agent": "a1"}), 400, "bad_request"),
    ];
    for (body, status, expected) in cases {
        let (s, v) = app.post("a1", &path, body.clone()).await?;
        assert_eq!((s, code(&v)), (status, expected), "{body}: {v}");
    }
    // a2 logged in but full: two chats (transferred to its queue) offered to it.
    let (x, y) = (app.chat_with_a1().await?, app.chat_with_a1().await?);
    app.login("a2").await?;
    app.state("a2", json!({"ready": true})).await?;
    for c in [&x, &y] {
        let (s, v) = app
            .post("a1", &format!("/chats/{c}/transfer"), json!({"queue": "q"}))
            .await?;
        assert_eq!(s, 200, "{v}");
    }
    let (_, me) = app.get("a2", "/me").await?;
    assert_eq!(me["offers"].as_array().map(Vec::len), Some(2), "{me}");
    let (s, v) = app.post("a1", &path, json!({"agent": "a2"})).await?;
    assert_eq!((s, code(&v)), (409, "agent_unavailable"), "{v}");
    let (s, v) = app.post("a3", &path, json!({"queue": "q"})).await?;
    assert_eq!((s, code(&v)), (409, "not_logged_in"), "{v}");
    app.login("a3").await?;
    let (s, v) = app.post("a3", &path, json!({"queue": "q"})).await?;
    assert_eq!((s, code(&v)), (404, "not_in_chat"), "{v}");
    let (_, view) = app.get("a1", &format!("/chats/{chat}")).await?;
    assert_eq!(view["queue"], "q");
    assert_eq!(
        view["events"].as_array().map(Vec::len),
        Some(2),
        "nothing written"
    );
    let (s, _) = app
        .post("a1", &format!("/chats/{chat}/end"), json!({}))
        .await?;
    assert_eq!(s, 200);
    // Ended, the chat is no longer the agent's (`chat_ended` only when it ends meanwhile).
    let (s, v) = app.post("a1", &path, json!({"queue": "q2"})).await?;
    assert_eq!((s, code(&v)), (404, "not_in_chat"), "{v}");
    Ok(())
}

#[tokio::test]
async fn a_transfer_to_an_agent_is_offered_on_its_stream_and_a_missed_one_says_so() -> R {
    let app = start(400).await?;
    let chat = app.chat_with_a1().await?;
    app.login("a2").await?;
    let (mut ws, _) = app.stream("a2").await?;
    let (s, v) = app
        .post(
            "a1",
            &format!("/chats/{chat}/transfer"),
            json!({"agent": "a2"}),
        )
        .await?;
    assert_eq!(s, 200, "{v}");
    let events = v["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 1, "{v}");
    assert_eq!(events[0]["kind"], "ParticipantLeft", "{v}");
    let offer = next_of(&mut ws, "offer").await?;
    assert_eq!(
        (&offer["chat_id"], &offer["service"]),
        (&json!(chat), &json!("svc"))
    );
    // Not answered within the offer timeout: withdrawn, and a2 is not ready for that.
    let gone = next_of(&mut ws, "offer_withdrawn").await?;
    assert_eq!(gone["reason"], "timeout");
    let state = next_of(&mut ws, "state").await?;
    assert_eq!(
        state,
        json!({"type": "state", "ready": false, "reason": "Missed offer"})
    );
    let (_, me) = app.get("a2", "/me").await?;
    assert_eq!(
        (&me["ready"], &me["reason"]),
        (&json!(false), &json!("Missed offer"))
    );
    // The chat waits at the head of its service's queue: a ready a1 is offered it.
    app.state("a1", json!({"ready": true})).await?;
    let (_, me) = app.get("a1", "/me").await?;
    assert_eq!(me["offers"][0]["chat_id"], json!(chat), "{me}");
    Ok(())
}

#[tokio::test]
async fn a_transfer_to_a_queue_reaches_an_agent_serving_it() -> R {
    let app = start(60_000).await?;
    let chat = app.chat_with_a1().await?;
    app.login("a3").await?;
    app.state("a3", json!({"ready": true})).await?;
    let (mut ws, _) = app.stream("a3").await?;
    let (s, v) = app
        .post(
            "a1",
            &format!("/chats/{chat}/transfer"),
            json!({"queue": "q2"}),
        )
        .await?;
    assert_eq!(
        (s, &v["events"][0]["kind"]),
        (200, &json!("ParticipantLeft"))
    );
    let offer = next_of(&mut ws, "offer").await?;
    assert_eq!(offer["chat_id"], json!(chat));
    let (s, view) = app
        .post("a3", &format!("/offers/{chat}/accept"), Value::Null)
        .await?;
    assert_eq!((s, &view["queue"]), (200, &json!("q")));
    let (s, v) = app.get("a1", &format!("/chats/{chat}")).await?;
    assert_eq!((s, code(&v)), (404, "not_in_chat"), "a1 left: {v}");
    Ok(())
}
