//! REST commands (`command::parse`, `command::new_chat`): for every operation name (and
//! unknown ones) and near-valid forms, parsing never panics; a parsed command carries exactly
//! the fields sent (text, type, attributes, URL, nickname, userData, position), and a refusal
//! is a GMS error with a code the API documents and advice.

use crate::support::fuzz;
use chinwag_core::ids::{EventIndex, ServiceName};
use chinwag_core::roles::customers::{CustomerOp, Selection};
use chinwag_gms_rest::command::{Action, new_chat, parse};
use chinwag_gms_rest::form::Form;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::Value;

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

fn position() -> impl Strategy<Value = String> {
    prop_oneof![
        (-3i64..30).prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just(" 5 ".to_owned()),
        Just(String::new()),
        Just("99999999999999999999".to_owned()),
        "\\PC{0,6}",
    ]
}

fn attributes() -> impl Strategy<Value = String> {
    prop_oneof![
        btree_map("[a-z]{0,4}", "\\PC{0,6}", 0..3)
            .prop_map(|m| serde_json::to_string(&m).unwrap_or_default()),
        Just("[1]".to_owned()),
        Just("  ".to_owned()),
        Just("{\"a\":{\"b\":[1,2]}}".to_owned()),
        "\\PC{0,8}",
    ]
}

/// A form of the fields the operations read, each present or not.
fn form() -> impl Strategy<Value = Form> {
    let text = || proptest::option::of("\\PC{0,12}");
    (
        proptest::option::of(position()),
        text(),
        text(),
        proptest::option::of(attributes()),
        text(),
        proptest::option::of(prop_oneof!["\\PC{0,8}", Just(" ".to_owned())]),
        btree_map("\\PC{1,6}", "\\PC{0,6}", 0..3),
    )
        .prop_map(|(pos, message, mtype, attrs, url, nick, user_data)| {
            let mut f = Form::default();
            let named = [
                ("transcriptPosition", pos),
                ("message", message),
                ("messageType", mtype),
                ("eventAttributes", attrs),
                ("pushUrl", url),
                ("nickname", nick),
            ];
            for (k, v) in named {
                if let Some(v) = v {
                    f.fields.insert(k.to_owned(), v);
                }
            }
            f.user_data = user_data;
            f
        })
}

/// What `parse` must give: the operation and selection (as their debug text), or the code.
fn model(op: &str, f: &Form) -> Result<(String, Selection), u16> {
    let get = |k: &str| f.fields.get(k).cloned();
    let pos = match get("transcriptPosition")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(s.parse::<i64>().map_err(|_| 400u16)?),
    };
    let sel = match pos {
        None | Some(0) => Selection::Nothing,
        Some(-1) => Selection::Last,
        Some(n) if n > 0 => Selection::From(EventIndex(n as u64)),
        Some(_) => return Err(400),
    };
    let attrs = || match get("eventAttributes").filter(|s| !s.trim().is_empty()) {
        None => Ok(None),
        Some(s) => match serde_json::from_str::<Value>(&s) {
            Ok(v) if v.is_object() => Ok(Some(v)),
            _ => Err(400u16),
        },
    };
    let required = |k: &str| get(k).filter(|v| !v.is_empty()).ok_or(400u16);
    if op == "refresh" {
        let refresh = Action::Refresh {
            preview: get("message"),
        };
        return Ok((format!("{refresh:?}"), sel));
    }
    let (cmd, sel) = match op {
        "send" => (
            CustomerOp::Send {
                text: required("message")?,
                message_type: get("messageType").filter(|s| !s.is_empty()),
                attributes: attrs()?,
            },
            sel,
        ),
        "startTyping" => (
            CustomerOp::StartTyping {
                text: get("message"),
            },
            sel,
        ),
        "stopTyping" => (
            CustomerOp::StopTyping {
                text: get("message"),
            },
            sel,
        ),
        "disconnect" => (CustomerOp::Disconnect, Selection::Nothing),
        "pushUrl" => (
            CustomerOp::PushUrl {
                url: required("pushUrl")?,
            },
            sel,
        ),
        "updateNickname" => {
            let n = get("nickname")
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
            (
                CustomerOp::UpdateNickname {
                    nickname: n.ok_or(161u16)?,
                },
                sel,
            )
        }
        "customNotice" => (
            CustomerOp::CustomNotice {
                text: get("message"),
                attributes: attrs()?,
            },
            sel,
        ),
        "updateData" => (
            CustomerOp::UpdateData {
                data: f.user_data.clone(),
            },
            sel,
        ),
        "readReceipt" => match pos {
            Some(n) if n > 0 => (
                CustomerOp::ReadReceipt {
                    index: EventIndex(n as u64),
                },
                Selection::Nothing,
            ),
            _ => return Err(400),
        },
        _ => return Err(404),
    };
    Ok((format!("{:?}", Action::Op(cmd)), sel))
}

#[test]
fn fuzz_command_parse() {
    let case = || {
        let op = prop_oneof![
            4 => prop::sample::select(OPS.to_vec()).prop_map(str::to_owned),
            1 => "\\PC{0,12}",
        ];
        (op, form())
    };
    fuzz("command_parse", 512, case, |(op, f)| {
        let want = model(&op, &f);
        let mut sent = f.clone();
        match (parse(&op, &mut sent), want) {
            (Ok(cmd), Ok((text, sel))) => {
                prop_assert_eq!(format!("{:?}", cmd.action), text);
                prop_assert_eq!(cmd.selection, sel);
            }
            (Err(e), Err(code)) => {
                prop_assert_eq!(e.code, code, "{}", e.advice);
                prop_assert!(!e.advice.is_empty());
                prop_assert!(e.status.is_client_error());
            }
            (got, want) => {
                return Err(TestCaseError::fail(format!(
                    "got {:?}, expected {want:?}",
                    got.map(|c| c.action).map_err(|e| e.advice)
                )));
            }
        }
        // The credentials stay in the form for the handler.
        prop_assert_eq!(sent.fields.get("message"), f.fields.get("message"));
        Ok(())
    });
}

#[test]
fn fuzz_command_new_chat() {
    let case = || {
        let fields = btree_map(
            prop_oneof![
                prop::sample::select(vec![
                    "nickname",
                    "firstName",
                    "lastName",
                    "subject",
                    "emailAddress",
                    "text",
                    "other"
                ])
                .prop_map(str::to_owned),
                "\\PC{0,6}",
            ],
            "\\PC{0,12}",
            0..8,
        );
        (
            fields,
            btree_map("\\PC{1,6}", "\\PC{0,6}", 0..4),
            "\\PC{0,8}",
        )
    };
    fuzz(
        "command_new_chat",
        512,
        case,
        |(fields, user_data, service)| {
            let form = Form {
                fields: fields.clone().into_iter().collect(),
                user_data: user_data.clone(),
            };
            let chat = new_chat(ServiceName::new(service.clone()), form);
            let get = |k: &str| fields.get(k).cloned();
            prop_assert_eq!(chat.service.as_str(), service);
            prop_assert_eq!(chat.nickname, get("nickname"));
            prop_assert_eq!(chat.first_name, get("firstName"));
            prop_assert_eq!(chat.last_name, get("lastName"));
            prop_assert_eq!(chat.subject, get("subject"));
            prop_assert_eq!(chat.email, get("emailAddress"));
            prop_assert_eq!(chat.text, get("text"));
            prop_assert_eq!(chat.user_data, user_data);
            prop_assert_eq!(chat.origin, None);
            Ok(())
        },
    );
}

/// Forms that went through the browser's encoding parse to the same commands.
#[test]
fn fuzz_command_from_the_wire() {
    let case = || {
        (
            prop::sample::select(OPS.to_vec()),
            form(),
            vec(("\\PC{0,6}", "\\PC{0,6}"), 0..3),
        )
    };
    fuzz("command_from_the_wire", 256, case, |(op, f, noise)| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in noise
            .iter()
            .chain(&f.fields.into_iter().collect::<Vec<_>>())
        {
            s.append_pair(k, v);
        }
        for (k, v) in &f.user_data {
            s.append_pair(&format!("userData[{k}]"), v);
        }
        let mut parsed = Form::parse_urlencoded(s.finish().as_bytes());
        let want = model(op, &parsed);
        let got = parse(op, &mut parsed)
            .map(|c| (format!("{:?}", c.action), c.selection))
            .map_err(|e| e.code);
        prop_assert_eq!(got, want);
        Ok(())
    });
}
