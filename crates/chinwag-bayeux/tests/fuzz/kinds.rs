//! Well-formed Bayeux messages of each kind (handshake, connect, subscribe, unsubscribe,
//! disconnect, publish to a service or a broadcast channel), so that the router target
//! reaches the server's success paths as often as its refusals.

use crate::inputs::{Client, Msg, client, ext, json_value};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// A well-formed message of one kind (handshake, connect, subscribe, unsubscribe,
/// disconnect, publish), usually of the case's own session.
pub(crate) fn sensible() -> impl Strategy<Value = Msg> {
    let kind = prop::sample::select(vec![
        "/meta/handshake",
        "/meta/connect",
        "/meta/connect",
        "/meta/subscribe",
        "/meta/unsubscribe",
        "/meta/disconnect",
        "/service/echo",
        "/chat/a",
        "/chat/b/c",
    ]);
    let id = prop_oneof![
        (0u32..100).prop_map(|n| json!(n.to_string())),
        (0u32..100).prop_map(|n| json!(n)),
        Just(Value::Null),
    ];
    let client = prop_oneof![8 => Just(Client::Own), 1 => client()];
    let subs = prop_oneof![
        prop::sample::select(vec![
            "/chat/a",
            "/chat/*",
            "/chat/**",
            "/service/echo",
            "/meta/x"
        ])
        .prop_map(|c| json!(c)),
        vec(
            prop::sample::select(vec!["/chat/a", "/chat/b/c", "/chat/*", "/x/**"]),
            0..4
        )
        .prop_map(|v| json!(v)),
    ];
    let timeout = prop_oneof![Just(None), (0u64..60_000).prop_map(Some)];
    (
        kind,
        id,
        client,
        subs,
        timeout,
        json_value(),
        proptest::option::of(ext()),
        any::<bool>(),
    )
        .prop_map(|(kind, id, client, subs, timeout, data, ext, ack)| {
            let mut m = json!({"channel": kind, "id": id});
            match kind {
                "/meta/handshake" => {
                    m["version"] = json!("1.0");
                    m["supportedConnectionTypes"] = json!(["long-polling", "callback-polling"]);
                    if ack {
                        m["ext"] = json!({"ack": true});
                    }
                }
                "/meta/connect" => {
                    m["connectionType"] = json!("long-polling");
                    if let Some(t) = timeout {
                        m["advice"] = json!({ "timeout": t });
                    }
                    if let Some(e) = ext {
                        m["ext"] = e;
                    }
                }
                "/meta/subscribe" | "/meta/unsubscribe" => m["subscription"] = subs,
                "/meta/disconnect" => {}
                _ => m["data"] = data,
            }
            let fields = match m {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            Msg { fields, client }
        })
}
