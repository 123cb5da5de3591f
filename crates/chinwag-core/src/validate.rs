//! Input rules shared by every adapter: names, e-mail addresses, text lengths, and the
//! bounds on attached data and event attributes, so that whatever is accepted can always be
//! stored and read back (the store reads JSON with serde's default recursion limit of 128,
//! and an event adds a level or two around its attributes).

use crate::error::CoreError;
use crate::event::UserData;
use crate::settings::ServiceLimits;
use serde_json::Value;

/// Longest nickname, first name or last name accepted (characters).
pub const MAX_NAME_CHARS: usize = 128;

/// The longest text an agent may send, in characters (the agent API is not bound to a
/// service's `max_message_length`).
pub const AGENT_MAX_TEXT: usize = 16 * 1024;

/// The most bytes one transcript event of a service can take as GMS JSON ([`crate::event::
/// Event::wire_size`]): its text (customer's or agent's; six bytes a character at most, for
/// an escaped control character), its nickname and message type, its attributes, and the
/// fixed fields.
pub fn max_event_bytes(limits: &ServiceLimits, max_message_length: usize) -> usize {
    6 * max_message_length.max(AGENT_MAX_TEXT)
        + 2 * 6 * MAX_NAME_CHARS
        + limits.max_attributes_bytes
        + 256
}

/// The most notifications (pages of `max_response_bytes`) in which a whole transcript can be
/// sent: a page ends when the next event does not fit, so every page but the last holds more
/// than the budget less the largest event; and every page holds one event at least.
pub fn max_pages(limits: &ServiceLimits, max_message_length: usize) -> usize {
    let fuller_than = limits
        .max_response_bytes
        .saturating_sub(max_event_bytes(limits, max_message_length));
    let by_bytes = match fuller_than {
        0 => usize::MAX,
        n => limits.max_chat_bytes.div_ceil(n) + 1,
    };
    by_bytes.min(limits.max_events_per_chat)
}

/// Checks a text against a character limit.
pub fn text_len(text: &str, max: usize) -> Result<(), CoreError> {
    if text.chars().count() > max {
        return Err(CoreError::MessageTooLong { max });
    }
    Ok(())
}

/// The bytes `s` takes inside a JSON string, escapes included (`"` and `\\` take two,
/// `\n`-style controls two, other control characters six), as serde_json writes it.
pub fn json_str_len(s: &str) -> usize {
    s.len()
        + s.bytes()
            .map(|b| match b {
                b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
                0..=0x1f => 5,
                _ => 0,
            })
            .sum::<usize>()
}

/// About how many bytes `v` takes as JSON (strings exactly, escapes included; numbers as 20).
pub fn json_size(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 20,
        Value::String(s) => json_str_len(s) + 2,
        Value::Array(a) => 2 + a.iter().map(|x| json_size(x) + 1).sum::<usize>(),
        Value::Object(m) => {
            2 + m
                .iter()
                .map(|(k, x)| json_str_len(k) + 4 + json_size(x))
                .sum::<usize>()
        }
    }
}

/// How deeply `v` nests (a scalar is 0, `[1]` is 1).
pub fn json_depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(json_depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Checks `eventAttributes` against the service's bounds.
pub fn attributes(v: &Value, limits: &ServiceLimits) -> Result<(), CoreError> {
    if json_depth(v) > limits.max_attributes_depth {
        return Err(CoreError::TooLarge(format!(
            "eventAttributes nest deeper than {} levels",
            limits.max_attributes_depth
        )));
    }
    if json_size(v) > limits.max_attributes_bytes {
        return Err(CoreError::TooLarge(format!(
            "eventAttributes larger than {} bytes",
            limits.max_attributes_bytes
        )));
    }
    Ok(())
}

/// Longest `userData` key (characters).
pub const MAX_KEY_CHARS: usize = 256;

/// Checks a chat's whole attached data (after a merge) against the service's bounds.
pub fn user_data(data: &UserData, limits: &ServiceLimits) -> Result<(), CoreError> {
    if data.len() > limits.max_user_data_keys {
        return Err(CoreError::TooLarge(format!(
            "userData holds more than {} keys",
            limits.max_user_data_keys
        )));
    }
    if let Some(k) = data.keys().find(|k| k.chars().count() > MAX_KEY_CHARS) {
        return Err(CoreError::TooLarge(format!(
            "userData key '{}…' longer than {MAX_KEY_CHARS} characters",
            k.chars().take(16).collect::<String>()
        )));
    }
    let bytes: usize = data.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > limits.max_user_data_bytes {
        return Err(CoreError::TooLarge(format!(
            "userData larger than {} bytes",
            limits.max_user_data_bytes
        )));
    }
    Ok(())
}

fn clean(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Resolves the display name from nickname or first+last name (codes 161/102/103 on the wire).
pub fn display_name(
    nickname: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
) -> Result<String, CoreError> {
    let (nickname, first, last) = (clean(nickname), clean(first), clean(last));
    let name = match (nickname, first, last) {
        (Some(n), _, _) => n.to_owned(),
        (None, Some(f), Some(l)) => format!("{f} {l}"),
        (None, None, Some(_)) => return Err(CoreError::FirstNameRequired),
        (None, Some(_), None) => return Err(CoreError::LastNameRequired),
        (None, None, None) => return Err(CoreError::NameRequired),
    };
    // Each part is kept in the chat's record, so each is bounded, used or not.
    for part in [Some(name.as_str()), first, last].into_iter().flatten() {
        if part.chars().count() > MAX_NAME_CHARS {
            return Err(CoreError::InvalidArgument(format!(
                "name longer than {MAX_NAME_CHARS} characters"
            )));
        }
    }
    Ok(name)
}

/// A pragmatic e-mail check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn email(addr: &str) -> Result<(), CoreError> {
    let ok = addr.len() <= 254
        && !addr.chars().any(|c| c.is_whitespace() || c.is_control())
        && match addr.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.split('.').count() >= 2
                    && domain.split('.').all(|label| !label.is_empty())
            }
            None => false,
        };
    if ok {
        Ok(())
    } else {
        Err(CoreError::InvalidEmail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_either_or_rule() {
        assert_eq!(
            display_name(Some(" Jo "), None, None).ok().as_deref(),
            Some("Jo")
        );
        assert_eq!(
            display_name(None, Some("Joan"), Some("Smith"))
                .ok()
                .as_deref(),
            Some("Joan Smith")
        );
        assert!(matches!(
            display_name(None, Some("Joan"), None),
            Err(CoreError::LastNameRequired)
        ));
        assert!(matches!(
            display_name(None, None, Some("Smith")),
            Err(CoreError::FirstNameRequired)
        ));
        assert!(matches!(
            display_name(Some(""), Some(" "), None),
            Err(CoreError::NameRequired)
        ));
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        assert!(
            display_name(Some("Jo"), Some(&long), None).is_err(),
            "an unused first name is still bounded"
        );
    }

    #[test]
    fn emails() {
        assert!(email("jdoe@example.com").is_ok());
        for bad in [
            "jdoe",
            "@example.com",
            "jdoe@",
            "jdoe@example",
            "j doe@example.com",
            "a@b@c.d",
            "a@b..c",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attributes_and_user_data_are_bounded() {
        let limits = ServiceLimits {
            max_attributes_depth: 3,
            max_attributes_bytes: 64,
            max_user_data_keys: 2,
            max_user_data_bytes: 10,
            ..ServiceLimits::default()
        };
        assert!(attributes(&serde_json::json!({"a": {"b": [1]}}), &limits).is_ok());
        let deep = serde_json::json!({"a": {"b": {"c": 1}}, "d": [[[[]]]]});
        assert!(matches!(
            attributes(&deep, &limits),
            Err(CoreError::TooLarge(_))
        ));
        let big = serde_json::json!({"a": "x".repeat(100)});
        assert!(matches!(
            attributes(&big, &limits),
            Err(CoreError::TooLarge(_))
        ));
        let ok = UserData::from([("a".into(), "1234".into()), ("b".into(), "1".into())]);
        assert!(user_data(&ok, &limits).is_ok());
        let mut many = ok.clone();
        many.insert("c".into(), String::new());
        assert!(user_data(&many, &limits).is_err());
        let heavy = UserData::from([("a".into(), "12345678901".into())]);
        assert!(user_data(&heavy, &limits).is_err());
        assert_eq!(json_depth(&serde_json::json!(1)), 0);
        assert_eq!(json_depth(&serde_json::json!([[1]])), 2);
    }

    #[test]
    fn json_string_sizes_count_escapes_as_serde_writes_them() {
        for s in [
            "plain",
            "é€😀",
            "q\"b\\",
            "\n\t\r\u{8}\u{c}",
            "\u{1}\u{1f}",
            "",
        ] {
            let written = serde_json::to_string(s).map_or(0, |j| j.len());
            assert_eq!(json_str_len(s) + 2, written, "{s:?}");
        }
    }

    #[test]
    fn text_limit_counts_characters() {
        assert!(text_len("ééé", 3).is_ok());
        assert!(matches!(
            text_len("éééé", 3),
            Err(CoreError::MessageTooLong { max: 3 })
        ));
    }
}
