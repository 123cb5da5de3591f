//! The form parser (`Form::parse_urlencoded`, `user_data_key`): arbitrary bytes never panic
//! and give a consistent form; near-valid forms (plain fields, `userData` in its bracket,
//! quoted and JSON spellings, and malformed look-alikes, repeated keys) parse to exactly what
//! an independent model of the rules says, whatever the browser encoding did to them.

use crate::support::fuzz;
use chinwag_gms_rest::form::{Form, user_data_key};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The `userData[...]` rule, written independently: the bracketed text, one pair of
/// matching quotes removed, and never empty.
fn model_key(key: &str) -> Option<String> {
    let inner = key.strip_prefix("userData[")?.strip_suffix(']')?;
    let b = inner.as_bytes();
    let unquoted = if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &inner[1..inner.len() - 1]
    } else {
        inner
    };
    (!unquoted.is_empty()).then(|| unquoted.to_owned())
}

/// The form the rules make of `pairs`, in order (a later key wins).
fn model(pairs: &[(String, String)]) -> Form {
    let mut fields = HashMap::new();
    let mut user_data = BTreeMap::new();
    for (k, v) in pairs {
        if let Some(inner) = model_key(k) {
            user_data.insert(inner, v.clone());
            continue;
        }
        let json = (k == "userData")
            .then(|| serde_json::from_str::<serde_json::Map<String, Value>>(v).ok())
            .flatten();
        match json {
            Some(map) => {
                for (jk, jv) in map {
                    let jv = match jv {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    user_data.insert(jk, jv);
                }
            }
            None => {
                fields.insert(k.clone(), v.clone());
            }
        }
    }
    Form { fields, user_data }
}

fn key() -> impl Strategy<Value = String> {
    let inner = prop_oneof!["[a-zA-Z_0-9]{0,8}", "\\PC{0,8}", "[\"'\\[\\]a]{0,4}"];
    prop_oneof![
        3 => prop::sample::select(vec![
            "nickname", "firstName", "lastName", "subject", "emailAddress", "text", "message",
            "userId", "secureKey", "transcriptPosition", "userData", "userData[", "userData[]",
            "userdata[a]", "userData[a]b", "userData[[a]]", "userData[\"]", "userData['']",
        ])
        .prop_map(str::to_owned),
        3 => (inner.clone(), 0usize..3).prop_map(|(k, q)| match q {
            0 => format!("userData[{k}]"),
            1 => format!("userData[\"{k}\"]"),
            _ => format!("userData['{k}']"),
        }),
        1 => inner,
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "\\PC{0,20}",
        1 => ".{0,10}",
        1 => prop::collection::btree_map("[a-z]{0,4}", prop_oneof![
            "\\PC{0,6}".prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
        ], 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect()).to_string()),
        1 => Just("{\"a\":".to_owned()),
    ]
}

#[test]
fn fuzz_form_arbitrary_bytes() {
    let bytes = || {
        prop_oneof![
            vec(any::<u8>(), 0..300),
            "[a-zA-Z%0-9=&+\\[\\]\"'{}:,]{0,120}".prop_map(String::into_bytes),
        ]
    };
    fuzz("form_arbitrary_bytes", 512, bytes, |b| {
        let f = Form::parse_urlencoded(&b);
        for k in f.fields.keys() {
            prop_assert!(user_data_key(k).is_none(), "{:?} is userData", k);
        }
        // The same text decoded pair by pair gives the same form.
        let pairs: Vec<(String, String)> = form_urlencoded::parse(&b)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        prop_assert_eq!(f, model(&pairs));
        Ok(())
    });
}

#[test]
fn fuzz_form_near_valid_pairs() {
    let pairs = || vec((key(), value()), 0..8);
    fuzz("form_near_valid_pairs", 512, pairs, |pairs| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            s.append_pair(k, v);
        }
        let body = s.finish();
        let f = Form::parse_urlencoded(body.as_bytes());
        prop_assert_eq!(f, model(&pairs), "{}", body);
        Ok(())
    });
}

#[test]
fn fuzz_form_user_data_key() {
    let keys = || prop_oneof![key(), "\\PC{0,24}"];
    fuzz("form_user_data_key", 1024, keys, |k| {
        let got = user_data_key(&k);
        prop_assert_eq!(got.map(str::to_owned), model_key(&k), "{:?}", k);
        if let Some(inner) = got {
            prop_assert!(k.contains(inner));
        }
        Ok(())
    });
}
