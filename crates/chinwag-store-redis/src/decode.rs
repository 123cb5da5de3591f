//! Turning what the load and headers scripts return into sessions and headers, or into the reason a chat cannot be
//! read (the quarantine's words are the SQLite store's: `session header: …`, `event N: …`).

use chinwag_core::event::Event;
use chinwag_core::ports::{StoredHeader, StoredSession};
use chinwag_core::session::SessionRecord;
use redis::Value;

/// Decodes stored JSON (serde_json's recursion limit stops hostile nesting).
fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    serde_json::from_str(text).map_err(|e| e.to_string())
}

fn bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

fn lossy(v: &Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        other => bytes(other).map_or_else(
            || format!("{other:?}"),
            |b| String::from_utf8_lossy(b).into_owned(),
        ),
    }
}

/// A header and revision as stored.
fn head(rec: &Value, rev: &Value) -> Result<StoredHeader, String> {
    let record: SessionRecord = match bytes(rec) {
        Some(b) => decode(b).map_err(|e| format!("session header: {e}"))?,
        None => return Err("session header: missing".into()),
    };
    let rev = bytes(rev)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| format!("revision: {}", lossy(rev)))?;
    Ok(StoredHeader { record, rev })
}

/// One chat of the headers script's answer: `Err(reason)` when it is unreadable (a chat
/// listed as live without a header is unreadable too).
pub(crate) fn header(v: &Value) -> Result<StoredHeader, String> {
    let Value::Array(parts) = v else {
        return Err(format!("unexpected reply {v:?}"));
    };
    match parts.as_slice() {
        [status, why] if bytes(status) == Some(b"err") => {
            Err(format!("unreadable keys: {}", lossy(why)))
        }
        [status, rec, rev] if bytes(status) == Some(b"ok") => head(rec, rev),
        _ => Err(format!("unexpected reply {v:?}")),
    }
}

/// One chat of the load script's answer: `Ok(None)` when the chat is not stored,
/// `Err(reason)` when it is stored but unreadable.
pub(crate) fn chat(v: &Value) -> Result<Option<StoredSession>, String> {
    let Value::Array(parts) = v else {
        return Err(format!("unexpected reply {v:?}"));
    };
    match parts.as_slice() {
        [status, why] if bytes(status) == Some(b"err") => {
            Err(format!("unreadable keys: {}", lossy(why)))
        }
        [status, rec, rev, Value::Array(flat)] if bytes(status) == Some(b"ok") => {
            if matches!(rec, Value::Nil) && matches!(rev, Value::Nil) && flat.is_empty() {
                return Ok(None);
            }
            let StoredHeader { record, rev } = head(rec, rev)?;
            let mut events = Vec::with_capacity(flat.len() / 2);
            for pair in flat.chunks(2) {
                let [id, body] = pair else {
                    return Err("events: odd reply".into());
                };
                let id = lossy(id);
                let idx = id.split('-').next().unwrap_or_default();
                let body = bytes(body).ok_or_else(|| format!("event {idx}: no body"))?;
                let event: Event = decode(body).map_err(|e| format!("event {idx}: {e}"))?;
                if event.index.0.to_string() != idx {
                    return Err(format!("event {idx}: holds index {}", event.index.0));
                }
                events.push(event);
            }
            Ok(Some(StoredSession {
                record,
                events,
                rev,
            }))
        }
        _ => Err(format!("unexpected reply {v:?}")),
    }
}
