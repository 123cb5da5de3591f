//! What the Bayeux router must answer a request, worked out from the request alone, and the
//! check of an answer against it: the status, that the body is a JSON array of Bayeux
//! messages (every reply says whether it succeeded, every failure has a `code:args:message`
//! error, everything else is a delivery), and that every message sent got exactly one reply
//! carrying its `id`.

use chinwag_bayeux::jsonp::valid_callback;
use chinwag_bayeux::message::{Message, parse_batch};
use proptest::prelude::*;
use serde_json::Value;

/// What a request must get back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expect {
    /// Only this status (preflights, other methods).
    Status(u16),
    /// `403` with the one refusal message (not processed).
    Denied,
    /// A request that could not be read: one failed `400` reply, with status `400`.
    BadRequest,
    /// More messages than a batch may hold: one failed `400` reply, with status `200`.
    TooMany,
    /// One reply per message id (in any order), plus any deliveries.
    Replies(Vec<Option<Value>>),
    /// The JSONP refusal of a callback name: `400`, plain text.
    BadCallback,
    /// A JSONP script calling `callback` with what the inner expectation describes.
    Script(String, Box<Expect>),
    /// A refused JSONP batch: each message failed on its own with `403::origin_denied`.
    DeniedEach(Vec<Option<Value>>),
}

/// Floats compared loosely (the decoder does not promise an exact round trip of them).
fn norm(v: Option<&Value>) -> Option<Value> {
    v.map(|v| match v {
        Value::Number(n) if n.is_f64() => Value::String("float".into()),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| norm(Some(x)).unwrap_or(Value::Null))
                .collect(),
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), norm(Some(x)).unwrap_or(Value::Null)))
                .collect(),
        ),
        other => other.clone(),
    })
}

/// The ids of `msgs`, as compared.
pub(crate) fn ids_of(msgs: &[Message]) -> Vec<Option<Value>> {
    msgs.iter().map(|m| norm(m.id.as_ref())).collect()
}

/// What processing a decoded batch answers, with at most `max_batch` messages allowed.
pub(crate) fn processed(msgs: &[Message], max_batch: usize) -> Expect {
    if msgs.len() > max_batch {
        return Expect::TooMany;
    }
    let handshake = msgs
        .iter()
        .find(|m| m.channel.as_deref() == Some("/meta/handshake"));
    match handshake {
        Some(h) => Expect::Replies(vec![norm(h.id.as_ref())]),
        None => Expect::Replies(ids_of(msgs)),
    }
}

/// The messages of the `message` fields of a form (a query or a body), or `None` when one
/// does not decode.
pub(crate) fn form_messages(form: &[u8]) -> Option<Vec<Message>> {
    let mut out = Vec::new();
    for (k, v) in form_urlencoded::parse(form) {
        if k == "message" {
            out.extend(parse_batch(v.as_bytes()).ok()?);
        }
    }
    Some(out)
}

/// The callback a JSONP query names (the last `jsonp` field, by default `jsonpcallback`).
pub(crate) fn callback_of(query: &[u8]) -> String {
    form_urlencoded::parse(query)
        .filter(|(k, _)| k == "jsonp")
        .last()
        .map_or_else(|| "jsonpcallback".to_owned(), |(_, v)| v.into_owned())
}

fn fail(why: String) -> TestCaseError {
    TestCaseError::fail(why)
}

/// Checks one element of an answer array: a delivery or a well-formed reply.
fn message_ok(m: &Value) -> Result<(), TestCaseError> {
    prop_assert!(m["channel"].is_string(), "no channel: {}", m);
    match m.get("successful") {
        None => prop_assert!(m.get("data").is_some(), "neither reply nor delivery: {}", m),
        Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => {
            let e = m["error"].as_str().unwrap_or_default();
            let code = e.split(':').next().unwrap_or_default();
            prop_assert!(
                code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) && e.len() > 4,
                "bad error {:?} in {}",
                e,
                m
            );
        }
        Some(other) => return Err(fail(format!("successful is {other}"))),
    }
    if let Some(a) = m.get("advice") {
        prop_assert!(a.is_object(), "advice {}", a);
    }
    Ok(())
}

/// Checks an answer array against `expect` (one of the JSON-array expectations).
fn array_ok(json: &str, expect: &Expect) -> Result<(), TestCaseError> {
    let v: Value =
        serde_json::from_str(json).map_err(|e| fail(format!("not JSON ({e}): {json}")))?;
    let arr = v
        .as_array()
        .ok_or_else(|| fail(format!("not an array: {json}")))?;
    for m in arr {
        message_ok(m)?;
    }
    let replies: Vec<&Value> = arr
        .iter()
        .filter(|m| m.get("successful").is_some())
        .collect();
    let failed = |error: &str| {
        replies.len() == 1
            && replies[0]["successful"] == false
            && replies[0]["error"]
                .as_str()
                .is_some_and(|e| e.starts_with(error))
    };
    match expect {
        Expect::Denied => prop_assert!(failed("403::origin_denied"), "{}", json),
        Expect::BadRequest | Expect::TooMany => prop_assert!(failed("400:"), "{}", json),
        Expect::Replies(ids) | Expect::DeniedEach(ids) => {
            let mut got: Vec<String> = replies
                .iter()
                .map(|r| format!("{:?}", norm(r.get("id"))))
                .collect();
            let mut want: Vec<String> = ids.iter().map(|i| format!("{i:?}")).collect();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want, "one reply per message: {}", json);
            if matches!(expect, Expect::DeniedEach(_)) {
                prop_assert!(
                    replies.iter().all(|r| r["error"] == "403::origin_denied"),
                    "{}",
                    json
                );
            }
        }
        other => return Err(fail(format!("not an array expectation: {other:?}"))),
    }
    Ok(())
}

/// Checks an answer (status, content type, body) against `expect`.
pub(crate) fn answer_ok(
    status: u16,
    ctype: &str,
    body: &str,
    expect: &Expect,
) -> Result<(), TestCaseError> {
    prop_assert!(status < 500, "{} answered: {}", status, body);
    match expect {
        Expect::Status(s) => prop_assert_eq!(status, *s, "{}", body),
        Expect::BadCallback => {
            prop_assert_eq!(status, 400, "{}", body);
            prop_assert_eq!(body, "invalid jsonp callback name");
        }
        Expect::Script(callback, inner) => {
            prop_assert_eq!(status, 200, "{}", body);
            prop_assert!(ctype.starts_with("text/javascript"), "{}", ctype);
            prop_assert!(
                valid_callback(callback),
                "expected an invalid callback {:?}",
                callback
            );
            let json = body
                .strip_prefix("/**/")
                .and_then(|b| b.strip_prefix(callback.as_str()))
                .and_then(|b| b.strip_prefix('('))
                .and_then(|b| b.strip_suffix(");"))
                .ok_or_else(|| fail(format!("not a call of {callback}: {body}")))?;
            array_ok(json, inner)?;
        }
        other => {
            let want = match other {
                Expect::Denied => 403,
                Expect::BadRequest => 400,
                _ => 200,
            };
            prop_assert_eq!(status, want, "{}", body);
            prop_assert!(ctype.starts_with("application/json"), "{}", ctype);
            array_ok(body, other)?;
        }
    }
    Ok(())
}
