//! GMS CometD operations (`op::parse`) over arbitrary JSON values and near-valid operation
//! objects: never a panic; the result is exactly what an independent model of the rules
//! gives (fields as strings, numbers or booleans, `userData` and `eventAttributes` as objects
//! or JSON text, positions as integers or integer text), and every refusal is an `Invalid`
//! with advice.

use crate::inputs::{json_value, operation};
use crate::support::fuzz;
use chinwag_core::event::UserData;
use chinwag_core::ids::EventIndex;
use chinwag_core::roles::customers::{CustomerOp, NewChat, Selection};
use chinwag_gms_cometd::op::{Auth, GmsOp, Invalid, Key, RequestChat, parse};
use proptest::prelude::*;
use serde_json::{Map, Value};

type M = Map<String, Value>;

fn text(m: &M, k: &str) -> Option<String> {
    match m.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn bad(why: &str) -> Invalid {
    Invalid(why.to_owned())
}

fn integer(m: &M, k: &str) -> Result<Option<i64>, Invalid> {
    let err = || bad(&format!("{k} must be an integer"));
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(err),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| err()),
        Some(_) => Err(err()),
    }
}

fn object(m: &M, k: &str, why: &str) -> Result<Option<M>, Invalid> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o.clone())),
        Some(Value::String(s)) if k == "userData" && s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(o)) => Ok(Some(o)),
            _ => Err(bad(why)),
        },
        Some(_) => Err(bad(why)),
    }
}

fn user_data(m: &M) -> Result<UserData, Invalid> {
    let o = object(m, "userData", "userData must be a JSON object")?.unwrap_or_default();
    Ok(o.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

fn key(m: &M) -> Result<Key, Invalid> {
    Ok(Key {
        secure_key: text(m, "secureKey")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("parameter 'secureKey' is required"))?,
        chat_id: text(m, "chatId").filter(|c| !c.is_empty() && c != "deprecated"),
    })
}

/// The rules of `parse`, written out again.
fn model(service: &str, v: &Value) -> Result<GmsOp, Invalid> {
    let m = v
        .as_object()
        .ok_or_else(|| bad("data must be a JSON object"))?;
    let op = text(m, "operation").ok_or_else(|| bad("parameter 'operation' is required"))?;
    let required = |k: &str| {
        text(m, k)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(&format!("parameter '{k}' is required")))
    };
    let attributes = || {
        object(
            m,
            "eventAttributes",
            "eventAttributes must be a JSON object",
        )
        .map(|o| o.map(Value::Object))
    };
    let customer = |op: CustomerOp| Ok(GmsOp::Customer(key(m)?, op));
    match op.as_str() {
        "requestChat" => {
            let auth =
                m.get("auth")
                    .and_then(Value::as_object)
                    .and_then(|a| match text(a, "encoded") {
                        Some(e) => Some(Auth::Encoded(e)),
                        None => Some(Auth::Open(text(a, "username")?, text(a, "password")?)),
                    });
            Ok(GmsOp::RequestChat(Box::new(RequestChat {
                chat: NewChat {
                    service: service.into(),
                    nickname: text(m, "nickname"),
                    first_name: text(m, "firstName"),
                    last_name: text(m, "lastName"),
                    subject: text(m, "subject"),
                    email: text(m, "emailAddress"),
                    text: text(m, "text"),
                    user_data: user_data(m)?,
                    origin: None,
                },
                auth,
                apikey: text(m, "apikey"),
            })))
        }
        "requestNotifications" => {
            let pos = integer(m, "transcriptPosition")?.unwrap_or(0);
            let from =
                u64::try_from(pos).map_err(|_| bad("transcriptPosition must be 0 or positive"))?;
            Ok(GmsOp::RequestNotifications(
                key(m)?,
                from.max(1),
                user_data(m)?,
            ))
        }
        "refresh" => {
            let sel = match integer(m, "transcriptPosition")? {
                None | Some(0) => Selection::Nothing,
                Some(-1) => Selection::Last,
                Some(n) if n > 0 => Selection::From(EventIndex(n as u64)),
                Some(_) => return Err(bad("transcriptPosition must be -1, 0 or positive")),
            };
            Ok(GmsOp::Refresh(key(m)?, sel, text(m, "message")))
        }
        "sendMessage" => customer(CustomerOp::Send {
            text: required("message")?,
            message_type: text(m, "messageType").filter(|s| !s.is_empty()),
            attributes: attributes()?,
        }),
        "readReceipt" => match integer(m, "transcriptPosition")? {
            Some(n) if n > 0 => customer(CustomerOp::ReadReceipt {
                index: EventIndex(n as u64),
            }),
            Some(_) => Err(bad("transcriptPosition must be the index of an event")),
            None => Err(bad("parameter 'transcriptPosition' is required")),
        },
        "startTyping" => customer(CustomerOp::StartTyping {
            text: text(m, "message"),
        }),
        "stopTyping" => customer(CustomerOp::StopTyping {
            text: text(m, "message"),
        }),
        "disconnect" => customer(CustomerOp::Disconnect),
        "pushUrl" => customer(CustomerOp::PushUrl {
            url: required("pushUrl")?,
        }),
        "updateNickname" => customer(CustomerOp::UpdateNickname {
            nickname: required("nickname")?,
        }),
        "customNotice" => customer(CustomerOp::CustomNotice {
            text: text(m, "message"),
            attributes: attributes()?,
        }),
        "updateData" => customer(CustomerOp::UpdateData {
            data: user_data(m)?,
        }),
        other => Err(bad(&format!("unknown operation '{other}'"))),
    }
}

fn check(service: &str, v: &Value) -> Result<(), TestCaseError> {
    let got = parse(service, v);
    if let Err(Invalid(advice)) = &got {
        prop_assert!(!advice.is_empty());
    }
    let got = format!("{got:?}");
    let want = format!("{:?}", model(service, v));
    prop_assert_eq!(got, want, "{}", v);
    Ok(())
}

#[test]
fn fuzz_op_any_json() {
    fuzz("op_any_json", 512, json_value, |v| check("svc", &v));
}

#[test]
fn fuzz_op_near_valid() {
    fuzz(
        "op_near_valid",
        512,
        || (operation(), "\\PC{0,6}"),
        |(v, service)| check(&service, &v),
    );
}
