//! Callback-polling (JSONP) framing: the strict callback-name check and the script body.

/// Whether `name` is a safe callback: dotted JavaScript identifiers, at most 64 characters.
pub fn valid_callback(name: &str) -> bool {
    if name.is_empty() || name.len() > 64 {
        return false;
    }
    name.split('.').all(|part| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    })
}

/// The script that hands `json` to `callback`; the comment prefix defeats content sniffing
/// tricks that start a response with attacker-chosen bytes.
pub fn script(callback: &str, json: &str) -> String {
    format!("/**/{callback}({json});")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_names() {
        assert!(valid_callback("_cometd_jsonp_1"));
        assert!(valid_callback("jsonpcallback"));
        assert!(valid_callback("a.b$.c_1"));
        assert!(!valid_callback(""));
        assert!(!valid_callback("alert(1)"));
        assert!(!valid_callback("a..b"));
        assert!(!valid_callback("1abc"));
        assert!(!valid_callback("a-b"));
        assert!(!valid_callback("x<script>"));
        assert!(!valid_callback(&"a".repeat(65)));
    }

    proptest::proptest! {
        #[test]
        fn accepted_names_contain_only_identifier_characters(s in "\\PC{0,70}") {
            if valid_callback(&s) {
                proptest::prop_assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || "_$.".contains(c)));
            }
        }
    }
}
