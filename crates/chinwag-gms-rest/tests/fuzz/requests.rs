//! Inputs of the REST router target: the app (a fresh engine over the in-memory store, with
//! small limits and push on, behind an open and a locked service) and requests to every
//! operation path (and unknown ones, with percent-encoded junk in the path) with near-valid
//! or damaged form, multipart or other bodies, right or wrong credentials and origins.

use axum::http::Method;
use chinwag_core::ChatEngine;
use chinwag_core::ids::{AgentId, NodeAlias, QueueName, ServiceName};
use chinwag_core::memstore::MemoryStore;
use chinwag_core::ports::SystemClock;
use chinwag_core::push::{DeviceType, PushSettings};
use chinwag_core::settings::{
    AgentAccount, AgentRole, EngineSettings, QueueSettings, ServiceLimits, ServiceSettings,
};
use chinwag_gms_rest::access::ServiceAccess;
use chinwag_gms_rest::{GmsState, router};
use chinwag_http::Origins;
use proptest::collection::vec;
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

const OPS: &[&str] = &[
    "refresh",
    "send",
    "startTyping",
    "stopTyping",
    "disconnect",
    "pushUrl",
    "updateNickname",
    "customNotice",
    "updateData",
    "readReceipt",
];

/// A service with small limits, so requests reach them.
fn service(name: &str) -> ServiceSettings {
    ServiceSettings {
        name: ServiceName::new(name),
        queue: QueueName::new("q"),
        max_sessions: 3,
        max_message_length: 40,
        maintenance: false,
        inactivity: Default::default(),
        files: Default::default(),
        limits: ServiceLimits {
            max_events_per_chat: 12,
            max_chat_bytes: 4096,
            max_user_data_keys: 6,
            max_user_data_bytes: 512,
            max_response_bytes: 1024,
            max_attributes_bytes: 128,
            max_attributes_depth: 3,
            ..ServiceLimits::default()
        },
    }
}

/// The REST router over a fresh engine: services `svc` (open) and `locked` (apikey `k`,
/// basic auth `u:p`), both allowing the origin `https://good.example`, bodies up to 2 KiB.
pub(crate) async fn app() -> Result<axum::Router, TestCaseError> {
    let settings = EngineSettings {
        alias: NodeAlias(1),
        services: vec![service("svc"), service("locked")],
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
        push: PushSettings {
            enabled: vec![DeviceType::CustomHttp],
            on_join: true,
            timeout_ms: None,
            shutdown_notify: true,
        },
        desk: Default::default(),
    };
    let engine = ChatEngine::open(
        settings,
        Arc::new(MemoryStore::default()),
        Arc::new(SystemClock),
    )
    .await
    .map_err(|e| TestCaseError::fail(format!("engine: {e}")))?;
    let origins = Origins::new(&["https://good.example".into()]);
    let open = ServiceAccess {
        origins: origins.clone(),
        ..ServiceAccess::default()
    };
    let locked = ServiceAccess {
        apikey: Some("k".into()),
        basic_auth: Some(("u".into(), "p".into())),
        origins: origins.clone(),
        chat_400_response_on_disconnected: true,
        ..ServiceAccess::default()
    };
    let access = HashMap::from([("svc".to_owned(), open), ("locked".to_owned(), locked)]);
    Ok(router(GmsState {
        customers: engine.customers(),
        access: Arc::new(access),
        all_origins: origins,
        trusted: Arc::default(),
        max_body_bytes: 2048,
        comet_keys: None,
    }))
}

/// How a body is sent.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// Form pairs, urlencoded.
    Form(Vec<(String, String)>),
    /// The same as multipart, cut at `usize` bytes if `Some`.
    Multipart(Vec<(String, String)>, Option<usize>),
    /// Anything, with this content type.
    Raw(Vec<u8>, Option<&'static str>),
}

#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) method: Method,
    /// With `$chat` for the case's chat id.
    pub(crate) path: String,
    pub(crate) body: Payload,
    pub(crate) origin: Option<&'static str>,
    /// Whether `userId` and `secureKey` are sent (and right).
    pub(crate) creds: (bool, bool),
}

/// Path segments: the case's own values (`$chat`) or junk, some percent-encoded.
fn segment(own: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        16 => Just(own.to_owned()),
        1 => "[a-zA-Z0-9._~-]{0,10}",
        1 => "(%[0-9A-Fa-f]{2}){1,4}",
        1 => Just("%FF%FE".to_owned()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    let svc = prop_oneof![
        6 => Just("svc".to_owned()),
        1 => Just("locked".to_owned()),
        1 => segment("nope"),
    ];
    let op = prop_oneof![
        12 => prop::sample::select(OPS.to_vec()).prop_map(str::to_owned),
        1 => segment("send"),
    ];
    prop_oneof![
        16 => (svc.clone(), segment("$chat"), op)
            .prop_map(|(s, c, o)| format!("/genesys/2/chat/{s}/{c}/{o}")),
        3 => (svc, any::<bool>()).prop_map(|(s, slash)| {
            format!("/genesys/2/chat/{s}{}", if slash { "/" } else { "" })
        }),
        1 => (segment("x"), segment("y")).prop_map(|(a, b)| format!("/genesys/{a}/{b}")),
        1 => Just("/genesys/2/chat-ntf".to_owned()),
    ]
}

/// Form fields: mostly each with a plausible value, otherwise anything.
fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop_oneof![2 => vec(sensible_pair(), 0..5), 1 => noisy_pairs()]
}

fn sensible_pair() -> impl Strategy<Value = (String, String)> {
    let field = prop::sample::select(vec![
        "message",
        "message",
        "messageType",
        "eventAttributes",
        "transcriptPosition",
        "transcriptPosition",
        "pushUrl",
        "nickname",
        "userData[a]",
        "userData[push_notification_deviceid]",
        "userData[push_notification_type]",
    ]);
    (field, "[a-zA-Z ]{1,12}", -1i64..8).prop_map(|(k, text, n)| {
        let v = match k {
            "eventAttributes" => format!("{{\"k\":\"{text}\"}}"),
            "transcriptPosition" => n.to_string(),
            "pushUrl" => format!("https://push.example/{}", text.trim()),
            "userData[push_notification_type]" => "customhttp".to_owned(),
            _ => text,
        };
        (k.to_owned(), v)
    })
}

fn noisy_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "message",
            "messageType",
            "eventAttributes",
            "transcriptPosition",
            "pushUrl",
            "nickname",
            "firstName",
            "lastName",
            "subject",
            "emailAddress",
            "text",
            "userData",
            "userData[a]",
            "userData[push_notification_deviceid]",
            "userData[push_notification_type]",
            "userData[push_notification_debug]",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,6}",
    ];
    let value = prop_oneof![
        "\\PC{0,16}",
        (-2i64..20).prop_map(|n| n.to_string()),
        Just("customhttp".to_owned()),
        Just("https://push.example/x".to_owned()),
        Just("{\"a\":{\"b\":{\"c\":{\"d\":1}}}}".to_owned()),
        Just("{\"k\":\"v\"}".to_owned()),
        "\\PC{40,60}",
    ];
    vec((key, value), 0..6)
}

/// One request: method (mostly POST), path, body, origin and which credentials it sends.
pub(crate) fn req() -> impl Strategy<Value = Req> {
    let method = prop::sample::select(vec![
        Method::POST,
        Method::POST,
        Method::POST,
        Method::POST,
        Method::GET,
        Method::OPTIONS,
        Method::PUT,
    ]);
    let body = prop_oneof![
        6 => pairs().prop_map(Payload::Form),
        1 => (pairs(), proptest::option::of(0usize..200)).prop_map(|(p, c)| Payload::Multipart(p, c)),
        1 => (vec(any::<u8>(), 0..100), prop::sample::select(vec![
            None,
            Some("application/json"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data"),
            Some("multipart/form-data; boundary=b"),
        ]))
            .prop_map(|(b, c)| Payload::Raw(b, c)),
        1 => (0usize..3).prop_map(|n| Payload::Raw(vec![b'a'; 2040 + n * 10], Some("application/x-www-form-urlencoded"))),
    ];
    let origin = prop::sample::select(vec![
        None,
        None,
        None,
        Some("https://good.example"),
        Some("https://evil.example"),
    ]);
    let creds = prop_oneof![6 => Just((true, true)), 1 => any::<(bool, bool)>()];
    (method, path(), body, origin, creds).prop_map(|(method, path, body, origin, creds)| Req {
        method,
        path,
        body,
        origin,
        creds,
    })
}
