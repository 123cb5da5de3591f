//! JSONP framing: every callback name `valid_callback` accepts is a safe dotted identifier (so
//! it cannot end the call, start a comment or a string, or carry markup), near-identifiers
//! are judged exactly, and `script` frames any JSON so that the callback and the JSON come
//! back out unchanged.

use crate::inputs::json_value;
use crate::support::fuzz;
use chinwag_bayeux::jsonp::{script, valid_callback};
use proptest::prelude::*;

/// The rule, written independently: 1 to 64 bytes, dot-separated parts, each an ASCII
/// identifier (`[A-Za-z_$][A-Za-z0-9_$]*`).
fn safe(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.split('.').all(|p| {
            let b = p.as_bytes();
            !b.is_empty()
                && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b'$')
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$')
        })
}

fn names() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,80}",
        ".{0,80}",
        "[a-zA-Z0-9_$.]{0,70}",
        "[a-zA-Z_$][a-zA-Z0-9_$]{0,20}(\\.[a-zA-Z_$][a-zA-Z0-9_$]{0,20}){0,3}",
        "[a-z_$.()<>\"'/\\\\;=\\- \u{2028}\u{2029}é0-9]{0,70}",
    ]
}

#[test]
fn fuzz_jsonp_callback_names() {
    fuzz("jsonp_callback_names", 1024, names, |name| {
        let ok = valid_callback(&name);
        prop_assert_eq!(ok, safe(&name), "{:?}", name);
        if ok {
            prop_assert!(
                name.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"_$.".contains(&c))
            );
        }
        Ok(())
    });
}

#[test]
fn fuzz_jsonp_script_framing() {
    let names = "[a-zA-Z_$][a-zA-Z0-9_$]{0,19}(\\.[a-zA-Z_$][a-zA-Z0-9_$]{0,19}){0,2}";
    fuzz(
        "jsonp_script_framing",
        256,
        || (names, json_value()),
        |(cb, v)| {
            prop_assert!(valid_callback(&cb));
            let json = serde_json::to_string(&v).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let body = script(&cb, &json);
            let inner = body
                .strip_prefix("/**/")
                .and_then(|b| b.strip_prefix(cb.as_str()))
                .and_then(|b| b.strip_prefix('('))
                .and_then(|b| b.strip_suffix(");"));
            prop_assert_eq!(inner, Some(json.as_str()));
            Ok(())
        },
    );
}
