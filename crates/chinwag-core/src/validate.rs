//! Input rules shared by every adapter: names, e-mail addresses, text lengths.

use crate::error::CoreError;

/// Longest nickname, first name or last name accepted (characters).
pub const MAX_NAME_CHARS: usize = 128;

/// Checks a text against a character limit.
pub fn text_len(text: &str, max: usize) -> Result<(), CoreError> {
    if text.chars().count() > max {
        return Err(CoreError::MessageTooLong { max });
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
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(CoreError::InvalidArgument(format!(
            "name longer than {MAX_NAME_CHARS} characters"
        )));
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
    fn text_limit_counts_characters() {
        assert!(text_len("ééé", 3).is_ok());
        assert!(matches!(
            text_len("éééé", 3),
            Err(CoreError::MessageTooLong { max: 3 })
        ));
    }
}
