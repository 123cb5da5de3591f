//! Input generators: arbitrary JSON, and near-valid GMS CometD operations (every field an
//! operation reads, as a string, a number, a boolean, JSON text or a wrong kind).

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Any JSON value, a few levels deep.
pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 20, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::from),
            btree_map("[a-zA-Z]{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The operation names, and a few that are not.
pub(crate) const OPS: &[&str] = &[
    "requestChat",
    "requestNotifications",
    "refresh",
    "sendMessage",
    "readReceipt",
    "startTyping",
    "stopTyping",
    "disconnect",
    "pushUrl",
    "updateNickname",
    "customNotice",
    "updateData",
];

fn op_name() -> impl Strategy<Value = Value> {
    prop_oneof![
        12 => prop::sample::select(OPS.to_vec()).prop_map(Value::from),
        1 => "\\PC{0,10}".prop_map(Value::from),
        1 => json_value(),
    ]
}

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => "\\PC{0,12}".prop_map(Value::from),
        1 => Just(json!("")),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
        1 => json_value(),
    ]
}

fn position() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (-3i64..30).prop_map(Value::from),
        2 => (-3i64..30).prop_map(|n| Value::from(format!(" {n}"))),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => Just(json!(1.5)),
        1 => Just(json!(" ")),
        1 => text(),
    ]
}

fn object_or_text() -> impl Strategy<Value = Value> {
    let obj = || {
        btree_map("\\PC{0,6}", text(), 0..4).prop_map(|m| Value::Object(m.into_iter().collect()))
    };
    prop_oneof![
        4 => obj(),
        2 => obj().prop_map(|o| Value::from(o.to_string())),
        1 => Just(json!("")),
        1 => Just(json!("[1]")),
        1 => text(),
    ]
}

fn auth() -> impl Strategy<Value = Value> {
    prop_oneof![
        (text()).prop_map(|e| json!({ "encoded": e })),
        (text(), text()).prop_map(|(u, p)| json!({"username": u, "password": p})),
        text().prop_map(|u| json!({ "username": u })),
        json_value(),
    ]
}

/// A near-valid operation object: the operation and any of the fields operations read.
pub(crate) fn operation() -> impl Strategy<Value = Value> {
    let fields = (
        proptest::option::weighted(0.8, text()),
        proptest::option::weighted(0.3, prop_oneof![Just(json!("deprecated")), text()]),
        proptest::option::weighted(0.5, text()),
        proptest::option::weighted(0.2, text()),
        proptest::option::weighted(0.5, position()),
        proptest::option::weighted(0.4, object_or_text()),
        proptest::option::weighted(0.3, object_or_text()),
    );
    let more = (
        proptest::option::weighted(0.3, text()),
        proptest::option::weighted(0.2, text()),
        proptest::option::weighted(0.2, text()),
        proptest::option::weighted(0.2, auth()),
        proptest::option::weighted(0.2, text()),
        proptest::option::weighted(0.3, text()),
        proptest::option::weighted(0.2, text()),
    );
    (op_name(), fields, more).prop_map(|(op, a, b)| {
        let names_a = [
            "secureKey",
            "chatId",
            "message",
            "messageType",
            "transcriptPosition",
            "userData",
            "eventAttributes",
        ];
        let names_b = [
            "nickname",
            "firstName",
            "lastName",
            "auth",
            "apikey",
            "pushUrl",
            "subject",
        ];
        let values_a = [a.0, a.1, a.2, a.3, a.4, a.5, a.6];
        let values_b = [b.0, b.1, b.2, b.3, b.4, b.5, b.6];
        let mut m = Map::new();
        m.insert("operation".into(), op);
        for (k, v) in names_a
            .iter()
            .zip(values_a)
            .chain(names_b.iter().zip(values_b))
        {
            if let Some(v) = v {
                m.insert((*k).to_owned(), v);
            }
        }
        Value::Object(m)
    })
}
