//! A `/service/chatV2/{service}` publish parsed into a typed command. Numbers may arrive as
//! JSON numbers or strings; `userData` as an object or a JSON-formatted string.

use chinwag_core::event::UserData;
use chinwag_core::ids::ServiceName;
use chinwag_core::roles::customers::{CustomerOp, NewChat, Selection};
use chinwag_gms_wire::notification::DEPRECATED;
use serde_json::{Map, Value};

/// A parse failure: the advice for a code-400 error notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

/// `requestChat` credentials for a service protected by basic auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `{username, password}`.
    Open(String, String),
    /// `{encoded: base64("user:pass")}`.
    Encoded(String),
}

/// A `requestChat` with what it proves about its caller.
#[derive(Debug)]
pub struct RequestChat {
    /// The chat asked for.
    pub chat: NewChat,
    /// Basic-auth credentials (`auth`).
    pub auth: Option<Auth>,
    /// The service's `apikey`, for clients that cannot send it as a header (WebSocket,
    /// JSONP).
    pub apikey: Option<String>,
}

/// One GMS CometD operation.
#[derive(Debug)]
pub enum GmsOp {
    /// Start a chat.
    RequestChat(Box<RequestChat>),
    /// Watch an existing chat from a transcript position (0 or absent: all events), with
    /// the push keys of its `userData` (a reconnecting app repeats them).
    RequestNotifications(Key, u64, UserData),
    /// Read the transcript (REST position rules; used by Widgets though undocumented),
    /// with the customer's typing preview (`message`) when sent.
    Refresh(Key, Selection, Option<String>),
    /// Any other customer operation.
    Customer(Key, CustomerOp),
}

/// How the client names its chat: the CometD `secureKey`, plus a `chatId` when sent (old
/// clients with a REST key).
#[derive(Debug, Clone)]
pub struct Key {
    /// `secureKey`.
    pub secure_key: String,
    /// `chatId`, unless absent or the `"deprecated"` placeholder.
    pub chat_id: Option<String>,
}

fn text(m: &Map<String, Value>, k: &str) -> Option<String> {
    match m.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn integer(m: &Map<String, Value>, k: &str) -> Result<Option<i64>, Invalid> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| Invalid(format!("{k} must be an integer"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Invalid(format!("{k} must be an integer"))),
        Some(_) => Err(Invalid(format!("{k} must be an integer"))),
    }
}

fn user_data(m: &Map<String, Value>) -> Result<UserData, Invalid> {
    let obj = match m.get("userData") {
        None | Some(Value::Null) => return Ok(UserData::new()),
        Some(Value::Object(o)) => o.clone(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(UserData::new()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => o,
            _ => return Err(Invalid("userData must be a JSON object".into())),
        },
        Some(_) => return Err(Invalid("userData must be a JSON object".into())),
    };
    Ok(obj
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect())
}

fn attributes(m: &Map<String, Value>) -> Result<Option<Value>, Invalid> {
    match m.get("eventAttributes") {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => Ok(Some(v)),
            _ => Err(Invalid("eventAttributes must be a JSON object".into())),
        },
        Some(_) => Err(Invalid("eventAttributes must be a JSON object".into())),
    }
}

fn key(m: &Map<String, Value>) -> Result<Key, Invalid> {
    let secure_key = text(m, "secureKey")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Invalid("parameter 'secureKey' is required".into()))?;
    let chat_id = text(m, "chatId").filter(|c| !c.is_empty() && c != DEPRECATED);
    Ok(Key {
        secure_key,
        chat_id,
    })
}

fn auth(m: &Map<String, Value>) -> Option<Auth> {
    let a = m.get("auth")?.as_object()?;
    if let Some(e) = text(a, "encoded") {
        return Some(Auth::Encoded(e));
    }
    Some(Auth::Open(text(a, "username")?, text(a, "password")?))
}

/// Parses the `data` of a publish for `service`.
pub fn parse(service: &str, data: &Value) -> Result<GmsOp, Invalid> {
    let m = data
        .as_object()
        .ok_or_else(|| Invalid("data must be a JSON object".into()))?;
    let op =
        text(m, "operation").ok_or_else(|| Invalid("parameter 'operation' is required".into()))?;
    let required = |k: &str| {
        text(m, k)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Invalid(format!("parameter '{k}' is required")))
    };
    let customer = |op| Ok(GmsOp::Customer(key(m)?, op));
    match op.as_str() {
        "requestChat" => Ok(GmsOp::RequestChat(Box::new(RequestChat {
            chat: NewChat {
                service: ServiceName::from(service),
                nickname: text(m, "nickname"),
                first_name: text(m, "firstName"),
                last_name: text(m, "lastName"),
                subject: text(m, "subject"),
                email: text(m, "emailAddress"),
                text: text(m, "text"),
                user_data: user_data(m)?,
                origin: None,
            },
            auth: auth(m),
            apikey: text(m, "apikey"),
        }))),
        "requestNotifications" => {
            let from = chinwag_gms_wire::position::watch_from(integer(m, "transcriptPosition")?)
                .map_err(|e| Invalid(e.to_string()))?;
            Ok(GmsOp::RequestNotifications(key(m)?, from.0, user_data(m)?))
        }
        "refresh" => {
            let sel = chinwag_gms_wire::position::selection(integer(m, "transcriptPosition")?)
                .map_err(|e| Invalid(e.to_string()))?;
            Ok(GmsOp::Refresh(key(m)?, sel, text(m, "message")))
        }
        "sendMessage" => customer(CustomerOp::Send {
            text: required("message")?,
            message_type: text(m, "messageType").filter(|s| !s.is_empty()),
            attributes: attributes(m)?,
        }),
        "readReceipt" => customer(CustomerOp::ReadReceipt {
            index: chinwag_gms_wire::position::receipt(integer(m, "transcriptPosition")?)
                .map_err(|e| Invalid(e.to_string()))?,
        }),
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
            attributes: attributes(m)?,
        }),
        "updateData" => customer(CustomerOp::UpdateData {
            data: user_data(m)?,
        }),
        other => Err(Invalid(format!("unknown operation '{other}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_parse_with_strings_or_numbers() {
        let ok = |v: Value| parse("s", &v).map(|_| ()).map_err(|e| e.0);
        assert_eq!(
            ok(json!({"operation":"requestChat","nickname":"J","userData":"{\"a\":1}"})),
            Ok(())
        );
        assert!(matches!(
            parse(
                "s",
                &json!({"operation":"requestNotifications","secureKey":"k","transcriptPosition":"5"})
            ),
            Ok(GmsOp::RequestNotifications(_, 5, _))
        ));
        assert!(matches!(
            parse(
                "s",
                &json!({"operation":"requestNotifications","secureKey":"k"})
            ),
            Ok(GmsOp::RequestNotifications(_, 1, _))
        ));
        assert!(ok(json!({"operation":"sendMessage","secureKey":"k"})).is_err());
        assert!(ok(json!({"operation":"sendMessage","message":"hi"})).is_err());
        assert!(
            ok(json!({"operation":"readReceipt","secureKey":"k","transcriptPosition":"x"}))
                .is_err()
        );
        assert!(ok(json!({"operation":"nope","secureKey":"k"})).is_err());
        assert!(ok(json!("text")).is_err());
        assert!(ok(json!({"operation":"requestChat","userData":[1]})).is_err());
        assert_eq!(
            auth(
                json!({"auth":{"encoded":"dXNlcjE6cGFzczE="}})
                    .as_object()
                    .unwrap_or(&Map::new())
            ),
            Some(Auth::Encoded("dXNlcjE6cGFzczE=".into()))
        );
    }
}
