//! The Bayeux decoder (`message::parse_batch`): arbitrary bytes, mutated encodings and deep
//! nesting never panic and are only accepted when they are a JSON message or array of
//! messages; near-valid batches are accepted exactly when every field the server types has
//! its type, and then keep channel, id, client id and the raw `data` text as sent.

use crate::inputs::{Msg, json_value, message};
use crate::support::fuzz;
use chinwag_bayeux::message::parse_batch;
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;

/// Whether the server's message type accepts `m`: the typed fields have their type or are
/// null, everything else is free.
fn well_typed(m: &Value) -> bool {
    let Some(o) = m.as_object() else {
        return false;
    };
    let string = |k: &str| o.get(k).is_none_or(|v| v.is_null() || v.is_string());
    string("channel")
        && string("clientId")
        && string("connectionType")
        && o.get("ext").is_none_or(|v| v.is_null() || v.is_object())
        && o.get("supportedConnectionTypes").is_none_or(|v| {
            v.is_null() || v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
        })
}

/// Byte-level damage to an encoding: (what, where, which byte).
fn mutate(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)]) -> Vec<u8> {
    for &(what, at, b) in edits {
        let at = if bytes.is_empty() {
            0
        } else {
            at % bytes.len()
        };
        match what % 4 {
            0 => bytes.insert(at, b),
            1 if !bytes.is_empty() => {
                bytes.remove(at);
            }
            2 if !bytes.is_empty() => bytes[at] = b,
            _ => bytes.truncate(at),
        }
    }
    bytes
}

/// What the decoder lets through unlike a full parse, all inside values it does not read:
/// `data` is kept raw and unknown fields are skipped, and skipping checks neither depth
/// (the body is bounded, and whoever reads `data` parses it with the limit) nor the text of
/// strings (lone surrogate escapes, and in skipped fields bytes that are not UTF-8) nor, in
/// skipped fields, the range of numbers.
fn lenient(e: &serde_json::Error) -> bool {
    let e = e.to_string();
    [
        "recursion limit exceeded",
        "invalid unicode code point",
        "lone leading surrogate in hex escape",
        "unexpected end of hex escape",
        "number out of range",
    ]
    .iter()
    .any(|l| e.starts_with(l))
}

/// Accepted bytes are JSON: one object or an array of objects, with as many messages.
fn accepted_only_if_json(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(msgs) = parse_batch(bytes) {
        let v: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) if lenient(&e) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("accepted invalid JSON: {e}"))),
        };
        let n = match &v {
            Value::Array(a) => a.len(),
            Value::Object(_) => 1,
            other => return Err(TestCaseError::fail(format!("accepted {other}"))),
        };
        prop_assert_eq!(msgs.len(), n);
    }
    Ok(())
}

fn nested() -> impl Strategy<Value = Vec<u8>> {
    (1usize..20_000, 0u8..3).prop_map(|(depth, kind)| {
        let (open, close): (&[u8], &[u8]) = match kind {
            0 => (b"[", b"]"),
            1 => (b"{\"data\":", b"}"),
            _ => (b"[{\"id\":", b"}]"),
        };
        let mut out = open.repeat(depth);
        out.extend_from_slice(b"1");
        out.extend_from_slice(&close.repeat(depth));
        out
    })
}

#[test]
fn fuzz_decoder_arbitrary_bytes() {
    let bytes = || {
        prop_oneof![
            vec(any::<u8>(), 0..300),
            "\\PC{0,200}".prop_map(String::into_bytes),
            nested(),
        ]
    };
    fuzz("decoder_arbitrary_bytes", 256, bytes, |b| {
        accepted_only_if_json(&b)
    });
}

#[test]
fn fuzz_decoder_near_valid_batches() {
    let case = || {
        (
            vec(message(), 0..5),
            any::<bool>(),
            "[ \t\r\n]{0,2}",
            vec((any::<u8>(), any::<usize>(), any::<u8>()), 0..3),
        )
    };
    fuzz(
        "decoder_near_valid_batches",
        256,
        case,
        |(msgs, single, ws, edits)| check_batch(&msgs, single, &ws, &edits),
    );
}

fn check_batch(
    msgs: &[Msg],
    single: bool,
    ws: &str,
    edits: &[(u8, usize, u8)],
) -> Result<(), TestCaseError> {
    let values: Vec<Value> = msgs.iter().map(|m| m.to_json(Some("own"))).collect();
    let sent: Vec<Value> = match values.first() {
        Some(first) if single => vec![first.clone()],
        _ => values,
    };
    let text = if single && !sent.is_empty() {
        sent[0].to_string()
    } else {
        Value::Array(sent.clone()).to_string()
    };
    let bytes = [ws.as_bytes(), text.as_bytes()].concat();
    if !edits.is_empty() {
        return accepted_only_if_json(&mutate(bytes, edits));
    }
    let parsed = parse_batch(&bytes);
    let expected = sent.iter().all(well_typed);
    prop_assert_eq!(parsed.is_ok(), expected, "{}", text);
    let Ok(parsed) = parsed else { return Ok(()) };
    prop_assert_eq!(parsed.len(), sent.len());
    for (got, want) in parsed.iter().zip(&sent) {
        let s = |k: &str| want.get(k).and_then(Value::as_str).map(str::to_owned);
        prop_assert_eq!(&got.channel, &s("channel"));
        prop_assert_eq!(&got.client_id, &s("clientId"));
        prop_assert_eq!(&got.connection_type, &s("connectionType"));
        // Compared as the same parser reads the text (floats do not round-trip exactly).
        let reread = |v: &Value| serde_json::from_str::<Value>(&v.to_string()).ok();
        let id = want.get("id").filter(|v| !v.is_null()).and_then(reread);
        prop_assert_eq!(got.id.as_ref(), id.as_ref());
        let data = want
            .get("data")
            .filter(|v| !v.is_null())
            .map(Value::to_string);
        prop_assert_eq!(got.data.as_ref().map(|d| d.get().to_owned()), data);
    }
    Ok(())
}

#[test]
fn fuzz_decoder_any_json() {
    fuzz("decoder_any_json", 256, json_value, |v| {
        let text = v.to_string();
        let parsed = parse_batch(text.as_bytes());
        let expected = match &v {
            Value::Array(a) => a.iter().all(well_typed),
            Value::Object(_) => well_typed(&v),
            _ => false,
        };
        prop_assert_eq!(parsed.is_ok(), expected, "{}", text);
        Ok(())
    });
}
