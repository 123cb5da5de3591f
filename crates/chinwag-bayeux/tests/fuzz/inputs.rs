//! Input generators: arbitrary JSON, and near-valid Bayeux messages (every field the server
//! reads, usually of the right type and often of a wrong one) with a placeholder for the
//! client id of the case's own session.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Any JSON value, a few levels deep.
pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map("[a-zA-Z]{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Channel names: the meta channels, services, broadcasts, globs and malformed names.
pub(crate) fn channel() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "/meta/handshake",
            "/meta/connect",
            "/meta/subscribe",
            "/meta/unsubscribe",
            "/meta/disconnect",
            "/meta/other",
            "/meta/*",
            "/service/echo",
            "/service/none",
            "/service/**",
            "/chat/a",
            "/chat/b/c",
            "/chat/*",
            "/chat/**",
            "/**",
            "/*",
            "/",
            "",
            "//",
            "/chat//a",
            "chat",
            "/chat/a*",
            "/chat/*/a",
        ])
        .prop_map(str::to_owned),
        "/[a-z*/]{0,12}",
        "\\PC{0,16}",
    ]
}

/// A field value: usually `good`, sometimes any JSON, sometimes absent.
fn field(good: BoxedStrategy<Value>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        8 => good.prop_map(Some),
        1 => json_value().prop_map(Some),
        4 => Just(None),
    ]
}

/// Whose client id a message carries.
#[derive(Debug, Clone)]
pub(crate) enum Client {
    /// The session made by the case's handshake (none if it made none).
    Own,
    /// Any string.
    Other(String),
    /// A value of the wrong type.
    Wrong(Value),
    /// No `clientId`.
    Absent,
}

/// One message: its fields as JSON, and whose client id goes in.
#[derive(Debug, Clone)]
pub(crate) struct Msg {
    pub(crate) fields: Map<String, Value>,
    pub(crate) client: Client,
}

impl Msg {
    /// The message object, with `own` as the session's client id.
    pub(crate) fn to_json(&self, own: Option<&str>) -> Value {
        let mut m = self.fields.clone();
        match (&self.client, own) {
            (Client::Own, Some(id)) => {
                m.insert("clientId".into(), json!(id));
            }
            (Client::Own, None) | (Client::Absent, _) => {}
            (Client::Other(s), _) => {
                m.insert("clientId".into(), json!(s));
            }
            (Client::Wrong(v), _) => {
                m.insert("clientId".into(), v.clone());
            }
        }
        Value::Object(m)
    }
}

/// Whose client id: mostly the case's own.
pub(crate) fn client() -> impl Strategy<Value = Client> {
    prop_oneof![
        6 => Just(Client::Own),
        1 => "[0-9a-z]{0,40}".prop_map(Client::Other),
        1 => json_value().prop_map(Client::Wrong),
        1 => Just(Client::Absent),
    ]
}

fn connection_types() -> BoxedStrategy<Value> {
    let one = prop_oneof![
        Just("long-polling".to_owned()),
        Just("callback-polling".to_owned()),
        Just("websocket".to_owned()),
        "\\PC{0,10}",
    ];
    vec(one, 0..4).prop_map(Value::from).boxed()
}

fn subscription() -> BoxedStrategy<Value> {
    prop_oneof![
        channel().prop_map(Value::from),
        vec(channel(), 0..4).prop_map(Value::from),
    ]
    .boxed()
}

/// An `ext` with the ack and timesync fields, of any numbers.
pub(crate) fn ext() -> BoxedStrategy<Value> {
    let ack = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u64..4).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
    ];
    let timesync = (any::<i64>(), any::<Option<i64>>(), any::<Option<i64>>())
        .prop_map(|(tc, l, o)| json!({"tc": tc, "l": l, "o": o}));
    (proptest::option::of(ack), proptest::option::of(timesync))
        .prop_map(|(ack, timesync)| {
            let mut m = Map::new();
            if let Some(a) = ack {
                m.insert("ack".into(), a);
            }
            if let Some(t) = timesync {
                m.insert("timesync".into(), t);
            }
            Value::Object(m)
        })
        .boxed()
}

fn advice() -> BoxedStrategy<Value> {
    prop_oneof![
        (0u64..100_000).prop_map(|t| json!({ "timeout": t })),
        any::<u64>().prop_map(|t| json!({ "timeout": t })),
        Just(json!({ "timeout": 0 })),
    ]
    .boxed()
}

fn version() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!("1.0")),
        Just(json!("1.0beta")),
        "\\PC{0,5}".prop_map(Value::from)
    ]
    .boxed()
}

fn connection_type() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!("long-polling")),
        Just(json!("callback-polling")),
        Just(json!("websocket")),
        Just(json!("")),
    ]
    .boxed()
}

/// A Bayeux message: mostly a well-formed one of a random kind, otherwise a noisy one.
pub(crate) fn message() -> impl Strategy<Value = Msg> {
    prop_oneof![3 => crate::kinds::sensible(), 1 => noisy()]
}

/// A message with every field the server reads, each of any kind, right or wrong.
fn noisy() -> impl Strategy<Value = Msg> {
    let channel = prop_oneof![
        8 => channel().prop_map(|c| Some(Value::from(c))),
        1 => json_value().prop_map(Some),
        1 => Just(None),
    ];
    let a = (
        channel,
        field(json_value().boxed()),
        field(json_value().boxed()),
        field(ext()),
        field(advice()),
    );
    let b = (
        field(subscription()),
        field(version()),
        field(connection_types()),
        field(connection_type()),
        proptest::option::of(("[a-z]{1,6}", json_value())),
    );
    (a, b, client()).prop_map(|((channel, id, data, ext, advice), b, client)| {
        let (subscription, version, types, connection_type, extra) = b;
        let mut m = Map::new();
        let named = [
            ("channel", channel),
            ("id", id),
            ("data", data),
            ("ext", ext),
            ("advice", advice),
            ("subscription", subscription),
            ("version", version),
            ("supportedConnectionTypes", types),
            ("connectionType", connection_type),
        ];
        for (k, v) in named {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        }
        if let Some((k, v)) = extra {
            m.insert(k, v);
        }
        Msg { fields: m, client }
    })
}

/// A valid handshake batch for `types`.
pub(crate) fn handshake(types: &[&str], ack: bool) -> String {
    let mut m = json!({
        "channel": "/meta/handshake",
        "version": "1.0",
        "supportedConnectionTypes": types,
        "id": "h",
    });
    if ack {
        m["ext"] = json!({"ack": true});
    }
    json!([m]).to_string()
}
