//! Inputs of the agent API target: the app (a fresh engine over the in-memory store with one
//! agent, `a1`, logged in, ready, in one chat and offered another; no blob store, so file
//! calls are refused) and requests to every endpoint and to unknown ones: any method, path
//! segments that are the case's chats or junk (percent-encoded bytes included), query strings,
//! bearer tokens right and wrong, and JSON bodies that are right for the endpoint, near it,
//! any JSON, or any bytes.

use axum::http::Method;
use chinwag_agent_api::{AgentState, router};
use chinwag_core::ChatEngine;
use chinwag_core::ids::{AgentId, NodeAlias, QueueName, ServiceName};
use chinwag_core::memstore::MemoryStore;
use chinwag_core::ports::SystemClock;
use chinwag_core::roles::customers::{NewChat, Selection};
use chinwag_core::settings::{
    AgentAccount, AgentRole, EngineSettings, QueueSettings, ServiceLimits, ServiceSettings,
};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The app and the ids of the chat `a1` is in and of the chat offered to it.
pub(crate) async fn app() -> Result<(axum::Router, String, String), TestCaseError> {
    let fail = |e: chinwag_core::CoreError| TestCaseError::fail(format!("setup: {e}"));
    let settings = EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 10,
            max_message_length: 40,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits: ServiceLimits {
                max_events_per_chat: 12,
                max_attributes_bytes: 128,
                max_attributes_depth: 3,
                ..ServiceLimits::default()
            },
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: vec![AgentAccount {
            id: AgentId::new("a1"),
            name: "Alice".into(),
            token: "tok".into(),
            queues: vec![QueueName::new("q")],
            capacity: 2,
            role: AgentRole::Agent,
        }],
        ended_retention_ms: 60_000,
        push: Default::default(),
        desk: Default::default(),
    };
    let engine = ChatEngine::open(
        settings,
        Arc::new(MemoryStore::default()),
        Arc::new(SystemClock),
    )
    .await
    .map_err(fail)?;
    let (agents, customers) = (engine.agents(), engine.customers());
    let a1 = AgentId::new("a1");
    agents.login(&a1).await.map_err(fail)?;
    agents.set_ready(&a1, true).await.map_err(fail)?;
    let chat = || NewChat {
        service: "svc".into(),
        nickname: Some("Jo".into()),
        ..NewChat::default()
    };
    let mine = customers
        .request_chat(chat(), Selection::Nothing)
        .await
        .map_err(fail)?
        .chat_id;
    agents.accept(&a1, &mine).await.map_err(fail)?;
    let offered = customers
        .request_chat(chat(), Selection::Nothing)
        .await
        .map_err(fail)?
        .chat_id;
    let mut state = AgentState::new(agents, CancellationToken::new());
    state.max_body_bytes = 1024;
    Ok((
        router(state),
        mine.as_str().to_owned(),
        offered.as_str().to_owned(),
    ))
}

/// One request; `$chat` and `$offer` in the path stand for the case's chats.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) token: Option<String>,
    pub(crate) body: Payload,
    pub(crate) content_type: Option<&'static str>,
}

fn segment(own: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        12 => Just(own.to_owned()),
        1 => "[a-zA-Z0-9._~-]{0,10}",
        1 => "(%[0-9A-Fa-f]{2}){1,4}",
        1 => Just("%FF".to_owned()),
    ]
}

/// A path and the method its endpoint takes (`GET` for unknown paths).
fn endpoint() -> impl Strategy<Value = (Method, String)> {
    let chat = prop_oneof![3 => segment("$chat"), 1 => segment("$offer")];
    let action = prop::sample::select(vec![
        (Method::GET, ""),
        (Method::POST, "/messages"),
        (Method::POST, "/typing"),
        (Method::POST, "/push-url"),
        (Method::POST, "/notices"),
        (Method::POST, "/leave"),
        (Method::POST, "/end"),
        (Method::GET, "/files"),
        (Method::POST, "/files"),
        (Method::GET, "/files/0123456789abcdef0123456789ABCDEF"),
        (Method::DELETE, "/files/0123456789abcdef0123456789ABCDEF"),
        (Method::GET, "/files/%2E%2E"),
        (Method::GET, "/x"),
    ]);
    let top = prop::sample::select(vec![
        (Method::POST, "login"),
        (Method::POST, "logout"),
        (Method::GET, "me"),
        (Method::PUT, "state"),
        (Method::GET, "events"),
        (Method::GET, ""),
        (Method::GET, "chats"),
        (Method::GET, "offers"),
    ]);
    prop_oneof![
        4 => (top, any::<bool>()).prop_map(|((m, p), slash)| {
            let path = if p.is_empty() && !slash { "/agent/v1".to_owned() } else { format!("/agent/v1/{p}") };
            (m, path)
        }),
        3 => (segment("$offer"), prop::sample::select(vec!["accept", "reject", "x"]))
            .prop_map(|(c, a)| (Method::POST, format!("/agent/v1/offers/{c}/{a}"))),
        10 => (chat, action).prop_map(|(c, (m, a))| (m, format!("/agent/v1/chats/{c}{a}"))),
        1 => (segment("x"), segment("y")).prop_map(|(a, b)| (Method::GET, format!("/agent/v1/{a}/{b}"))),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::from),
            btree_map("[a-z_]{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The body the endpoint at `path` takes, with `text` in its text field.
fn fitting(path: &str, text: &str) -> Value {
    let end = path.rsplit('/').next().unwrap_or_default();
    match end {
        "state" => json!({"ready": !text.is_empty()}),
        "messages" => json!({"text": text, "message_type": "t"}),
        "typing" => json!({"typing": true, "text": text}),
        "push-url" => json!({"url": format!("https://x.example/{text}")}),
        "notices" => json!({"text": text, "custom": true, "attributes": {"a": {"b": {"c": 1}}}}),
        _ => json!({}),
    }
}

/// What a request body is.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// The endpoint's own body with this text, and a field set to any JSON or added.
    Fitting(String, Option<(&'static str, Value)>),
    /// These bytes.
    Bytes(Vec<u8>),
}

impl Payload {
    /// The bytes sent to `path`.
    pub(crate) fn bytes(&self, path: &str) -> Vec<u8> {
        match self {
            Payload::Bytes(b) => b.clone(),
            Payload::Fitting(text, change) => {
                let mut v = fitting(path, text);
                if let Some((k, x)) = change {
                    v[*k] = x.clone();
                }
                v.to_string().into_bytes()
            }
        }
    }
}

fn payload() -> impl Strategy<Value = Payload> {
    let field = prop::sample::select(vec![
        "ready",
        "text",
        "message_type",
        "typing",
        "url",
        "custom",
        "attributes",
        "extra",
    ]);
    let text = prop_oneof![4 => "\\PC{0,20}", 1 => "\\PC{38,44}"];
    prop_oneof![
        8 => (text, proptest::option::weighted(0.25, (field, json_value())))
            .prop_map(|(t, c)| Payload::Fitting(t, c)),
        1 => json_value().prop_map(|v| Payload::Bytes(v.to_string().into_bytes())),
        1 => vec(any::<u8>(), 0..60).prop_map(Payload::Bytes),
        1 => Just(Payload::Bytes(Vec::new())),
        1 => (1000usize..1100)
            .prop_map(|n| Payload::Bytes(format!("{{\"text\":\"{}\"}}", "a".repeat(n)).into_bytes())),
    ]
}

/// One request: usually the method its endpoint takes, a right token and a fitting body.
pub(crate) fn req() -> impl Strategy<Value = Req> {
    let method = prop_oneof![
        6 => Just(None),
        1 => prop::sample::select(vec![
            Method::POST, Method::GET, Method::PUT, Method::DELETE, Method::OPTIONS, Method::PATCH,
        ])
        .prop_map(Some),
    ];
    let query = prop_oneof![
        4 => Just(None),
        2 => (0u64..20).prop_map(|n| Some(format!("from={n}"))),
        1 => Just(Some("token=tok".to_owned())),
        1 => "[a-z=&%0-9-]{0,16}".prop_map(Some),
        1 => Just(Some("from=-1&from=x".to_owned())),
    ];
    let token = prop_oneof![
        16 => Just(Some("Bearer tok".to_owned())),
        1 => Just(None),
        1 => "\\PC{0,12}".prop_map(|t| Some(format!("Bearer {t}"))),
        1 => Just(Some("bearer tok".to_owned())),
    ];
    let ctype = prop::sample::select(vec![
        Some("application/json"),
        None,
        Some("text/plain"),
        Some("multipart/form-data; boundary=b"),
    ]);
    (method, endpoint(), query, token, payload(), ctype).prop_map(
        |(other, (method, path), query, token, body, content_type)| Req {
            method: other.unwrap_or(method),
            path,
            query,
            token,
            body,
            content_type,
        },
    )
}
