//! Bayeux messages on the wire: what clients send (parsed once, `data` kept raw so broadcast
//! never re-encodes it), the replies the server writes, and the advice and error strings.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// One message from a client. Unknown fields are ignored. (It serializes back, without
/// absent fields, when a node forwards it to the session's owner.)
#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Channel (required; checked by the processor so the reply can say so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Client-chosen id, echoed on replies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// Session id from the handshake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Payload of a publish, kept as raw JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Box<RawValue>>,
    /// Extension fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext: Option<Map<String, Value>>,
    /// Client advice (`timeout` on connect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<Value>,
    /// Subscribe/unsubscribe target(s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Value>,
    /// Protocol version (handshake).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Value>,
    /// Transports the client supports (handshake).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_connection_types: Option<Vec<String>>,
    /// Transport of this connect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
}

/// Parses a request body: an array of messages or a single message object.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Message>, serde_json::Error> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        serde_json::from_slice::<Message>(body).map(|m| vec![m])
    } else {
        serde_json::from_slice::<Batch>(body).map(|b| b.0)
    }
}

/// An array of messages, collected from a capacity of one: most batches are a single
/// connect, and the default first capacity (four messages, over 1 KiB) would take the
/// allocator's slow path for large blocks on every request.
struct Batch(Vec<Message>);

impl<'de> Deserialize<'de> for Batch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Messages;
        impl<'de> serde::de::Visitor<'de> for Messages {
            type Value = Batch;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of Bayeux messages")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Batch, A::Error> {
                let mut out = Vec::with_capacity(1);
                while let Some(m) = seq.next_element()? {
                    out.push(m);
                }
                Ok(Batch(out))
            }
        }
        d.deserialize_seq(Messages)
    }
}

/// A reply to one client message.
#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    /// The request's channel.
    pub channel: String,
    /// Echo of the request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// Outcome.
    pub successful: bool,
    /// Protocol version (handshake).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'static str>,
    /// Offered transports (handshake).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_connection_types: Option<Vec<&'static str>>,
    /// Session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Echo of the subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Value>,
    /// `code:args:message` when unsuccessful.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<Value>,
    /// Extension fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext: Option<Map<String, Value>>,
}

impl Reply {
    /// A reply on `channel` echoing `id`.
    pub fn to(channel: impl Into<String>, id: Option<Value>) -> Self {
        Self {
            channel: channel.into(),
            id,
            ..Self::default()
        }
    }

    /// Marks the reply failed with `error` and optional advice.
    pub fn fail(mut self, error: String, advice: Option<Value>) -> Self {
        self.successful = false;
        self.error = Some(error);
        self.advice = advice;
        self
    }

    /// Sets one extension field.
    pub fn ext(&mut self, key: &str, value: Value) {
        self.ext
            .get_or_insert_with(Map::new)
            .insert(key.to_owned(), value);
    }

    /// The JSON text of the reply.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// Bayeux error strings (`code:args:message`). Texts follow CometD where it has one; the
/// unknown-client text is GMS's.
pub mod errors {
    /// The client id is missing, unknown, expired or belongs to another browser.
    pub const UNKNOWN_CLIENT: &str = "402::Unknown client";

    /// Too many handshakes from one client address.
    pub const HANDSHAKE_RATE_LIMITED: &str = "429::handshake_rate_limited";

    /// The server holds its maximum of sessions.
    pub const SERVER_FULL: &str = "503::server_full";

    /// A request from an origin that is not allowed.
    pub const ORIGIN_DENIED: &str = "403::origin_denied";

    /// A subscribe past the limit of subscriptions per session.
    pub fn subscription_limit(max: usize) -> String {
        format!("403:{max}:subscription_limit")
    }

    /// A required field is missing.
    pub fn missing(field: &str) -> String {
        format!("400:{field}:missing required field")
    }

    /// A field has the wrong form.
    pub fn invalid(field: &str, why: &str) -> String {
        format!("400:{field}:{why}")
    }

    /// The channel name is malformed or not usable here.
    pub fn channel_invalid(channel: &str) -> String {
        format!("405:{channel}:channel_invalid")
    }

    /// The channel is reserved for the protocol.
    pub fn channel_forbidden(channel: &str) -> String {
        format!("403:{channel}:channel_forbidden")
    }

    /// An authorizer refused.
    pub fn denied(what: &str, reason: &str) -> String {
        format!("403:{reason}:{what}_denied")
    }
}

/// One encoded message on its way out: a reply built for this request, or a delivery shared
/// by every session it was queued to (joined into the response without a copy of its own).
#[derive(Debug, Clone)]
pub enum Part {
    /// Built for this response.
    Own(String),
    /// Queued, shared with other sessions.
    Shared(std::sync::Arc<str>),
}

impl AsRef<str> for Part {
    fn as_ref(&self) -> &str {
        match self {
            Part::Own(s) => s,
            Part::Shared(s) => s,
        }
    }
}

impl From<String> for Part {
    fn from(s: String) -> Self {
        Part::Own(s)
    }
}

impl From<std::sync::Arc<str>> for Part {
    fn from(s: std::sync::Arc<str>) -> Self {
        Part::Shared(s)
    }
}

/// Writes `[a,b,c]` from already-encoded messages.
pub fn join_array<S: AsRef<str>>(parts: &[S]) -> String {
    let mut out = Vec::with_capacity(array_len(parts));
    write_array(parts, &mut out);
    // Only whole `str`s and ASCII punctuation were written.
    String::from_utf8(out).unwrap_or_default()
}

/// The length of what [`join_array`] makes of `parts`.
pub fn array_len<S: AsRef<str>>(parts: &[S]) -> usize {
    parts.iter().map(|p| p.as_ref().len() + 1).sum::<usize>() + 1 + usize::from(parts.is_empty())
}

/// Appends what [`join_array`] makes of `parts` to `out`.
pub fn write_array<S: AsRef<str>>(parts: &[S], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(p.as_ref().as_bytes());
    }
    out.push(b']');
}

/// Encodes a delivery `{"channel":…,"data":…}` from raw JSON data.
pub fn delivery(channel: &str, data: &str) -> String {
    let channel = serde_json::to_string(channel).unwrap_or_else(|_| String::from("\"\""));
    let mut out = String::with_capacity(channel.len() + data.len() + 22);
    out.push_str("{\"channel\":");
    out.push_str(&channel);
    out.push_str(",\"data\":");
    out.push_str(data);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_and_single_objects_parse() -> Result<(), serde_json::Error> {
        let one = parse_batch(br#" {"channel":"/meta/connect","clientId":"x","extra":1}"#)?;
        assert_eq!(one.len(), 1);
        let many = parse_batch(br#"[{"channel":"/a","data":{"k":[1,2]}},{"channel":"/b"}]"#)?;
        assert_eq!(many.len(), 2);
        assert_eq!(
            many[0].data.as_ref().map(|d| d.get()),
            Some(r#"{"k":[1,2]}"#)
        );
        assert!(parse_batch(b"[{").is_err());
        assert!(parse_batch(b"\"x\"").is_err());
        Ok(())
    }

    #[test]
    fn deliveries_and_arrays_are_valid_json() -> Result<(), serde_json::Error> {
        let d = delivery("/chat/\"q\"", r#"{"text":"hi"}"#);
        let v: Value = serde_json::from_str(&join_array(&[d.clone(), d]))?;
        assert_eq!(v[1]["data"]["text"], "hi");
        assert_eq!(v[0]["channel"], "/chat/\"q\"");
        for n in 0..3 {
            let parts = vec!["{}"; n];
            assert_eq!(array_len(&parts), join_array(&parts).len(), "{n} parts");
        }
        Ok(())
    }
}
