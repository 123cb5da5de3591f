//! Form fields as GMS clients send them: flat fields plus `userData[key]=value` bracket
//! notation (jQuery `$.param` style), the quoted-key variant `userData["key"]` /
//! `userData['key']`, and, leniently, `userData` as one JSON object string.

use std::collections::{BTreeMap, HashMap};

/// A parsed request body.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Form {
    /// Plain fields; a repeated key keeps its last value.
    pub fields: HashMap<String, String>,
    /// `userData` entries.
    pub user_data: BTreeMap<String, String>,
}

impl Form {
    /// A plain field.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// Adds one decoded key/value pair, routing `userData…` keys into `user_data`.
    pub fn insert(&mut self, key: String, value: String) {
        if let Some(inner) = user_data_key(&key) {
            self.user_data.insert(inner.to_owned(), value);
        } else if key == "userData" {
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&value) {
                Ok(map) => {
                    for (k, v) in map {
                        let v = match v {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        self.user_data.insert(k, v);
                    }
                }
                Err(_) => {
                    self.fields.insert(key, value);
                }
            }
        } else {
            self.fields.insert(key, value);
        }
    }

    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse_urlencoded(body: &[u8]) -> Self {
        let mut form = Form::default();
        for (k, v) in form_urlencoded::parse(body) {
            form.insert(k.into_owned(), v.into_owned());
        }
        form
    }
}

/// `userData[key]` → `key`, stripping one pair of matching quotes inside the brackets.
pub fn user_data_key(key: &str) -> Option<&str> {
    let inner = key.strip_prefix("userData[")?.strip_suffix(']')?;
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| inner.strip_prefix(*q).and_then(|s| s.strip_suffix(*q)))
        .unwrap_or(inner);
    (!unquoted.is_empty()).then_some(unquoted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bracket_forms() {
        let f = Form::parse_urlencoded(
            b"nickname=Jo&userData%5Bk1%5D=v1&userData[%22k2%22]=v2&userData['k3']=v3&userData[]=x&userData%5BTimeZone%5D=-480",
        );
        assert_eq!(f.get("nickname"), Some("Jo"));
        assert_eq!(f.user_data.get("k1").map(String::as_str), Some("v1"));
        assert_eq!(f.user_data.get("k2").map(String::as_str), Some("v2"));
        assert_eq!(f.user_data.get("k3").map(String::as_str), Some("v3"));
        assert_eq!(
            f.user_data.get("TimeZone").map(String::as_str),
            Some("-480")
        );
        assert_eq!(f.user_data.len(), 4, "an empty key is not user data");
        assert_eq!(f.get("userData[]"), Some("x"));
    }

    #[test]
    fn json_user_data_and_plus_decoding() {
        let f = Form::parse_urlencoded(
            b"userData=%7B%22a%22%3A%22b%22%2C%22n%22%3A1%7D&message=hello+world%21",
        );
        assert_eq!(f.user_data.get("a").map(String::as_str), Some("b"));
        assert_eq!(f.user_data.get("n").map(String::as_str), Some("1"));
        assert_eq!(f.get("message"), Some("hello world!"));
    }

    fn encode(pairs: &[(String, String)]) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            s.append_pair(k, v);
        }
        s.finish()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any userData key/value survives browser encoding, in all three spellings.
        #[test]
        fn user_data_round_trips(key in "[^\\[\\]\"']{1,20}", value in ".{0,40}", style in 0usize..3) {
            let wire_key = match style {
                0 => format!("userData[{key}]"),
                1 => format!("userData[\"{key}\"]"),
                _ => format!("userData['{key}']"),
            };
            let body = encode(&[(wire_key, value.clone()), ("nickname".into(), "n".into())]);
            let f = Form::parse_urlencoded(body.as_bytes());
            prop_assert_eq!(f.user_data.get(&key), Some(&value));
            prop_assert_eq!(f.get("nickname"), Some("n"));
        }

        /// Plain fields round-trip and never leak into userData.
        #[test]
        fn plain_fields_round_trip(pairs in proptest::collection::vec(("[a-zA-Z]{1,10}", ".{0,30}"), 0..8)) {
            let body = encode(&pairs);
            let f = Form::parse_urlencoded(body.as_bytes());
            let mut expected = HashMap::new();
            for (k, v) in &pairs {
                expected.insert(k.clone(), v.clone());
            }
            expected.remove("userData");
            let mut got = f.fields.clone();
            got.remove("userData");
            prop_assert_eq!(got, expected);
        }

        /// Arbitrary bytes never panic the parser.
        #[test]
        fn arbitrary_bodies_do_not_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Form::parse_urlencoded(&body);
        }
    }
}
