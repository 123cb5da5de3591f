//! Channel names: validation, the meta/service/broadcast split, and trailing-glob matching.

/// What a channel name is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// `/meta/**`: the protocol itself.
    Meta,
    /// `/service/**`: request/response with server-side handlers, never broadcast.
    Service,
    /// Anything else: broadcast to subscribers.
    Broadcast,
}

/// Whether a segment character is allowed (`alphanum | - _ ! ~ ( ) $ @`, plus `.` which
/// real deployments use).
fn segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_!~()$@.".contains(c)
}

/// Why a channel name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelError {
    /// Not an absolute path of valid segments.
    Invalid,
    /// A glob where a concrete channel is needed, or a glob not in the last segment.
    Wildcard,
}

/// A checked channel name, possibly ending in `*` or `**`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel<'a> {
    /// The full name.
    pub name: &'a str,
    /// `*` or `**` as last segment.
    pub glob: Option<Glob>,
}

/// A trailing glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glob {
    /// `*`: exactly one more segment.
    One,
    /// `**`: one or more segments.
    Deep,
}

impl<'a> Channel<'a> {
    /// Parses `name`; globs are allowed only as the last segment.
    pub fn parse(name: &'a str) -> Result<Self, ChannelError> {
        let Some(rest) = name.strip_prefix('/') else {
            return Err(ChannelError::Invalid);
        };
        if rest.is_empty() || name.len() > 1024 {
            return Err(ChannelError::Invalid);
        }
        let segments: Vec<&str> = rest.split('/').collect();
        let last = segments.len() - 1;
        let mut glob = None;
        for (i, seg) in segments.iter().enumerate() {
            match *seg {
                "*" | "**" if i == last => {
                    glob = Some(if *seg == "*" { Glob::One } else { Glob::Deep });
                }
                "*" | "**" => return Err(ChannelError::Wildcard),
                s if !s.is_empty() && s.chars().all(segment_char) => {}
                _ => return Err(ChannelError::Invalid),
            }
        }
        Ok(Self { name, glob })
    }

    /// Parses a concrete (glob-free) channel name, as needed for publishing.
    pub fn concrete(name: &'a str) -> Result<Self, ChannelError> {
        let ch = Self::parse(name)?;
        if ch.glob.is_some() {
            return Err(ChannelError::Wildcard);
        }
        Ok(ch)
    }

    /// Meta, service or broadcast.
    pub fn kind(&self) -> ChannelKind {
        kind_of(self.name)
    }
}

/// The kind of a channel by its first segment.
pub fn kind_of(name: &str) -> ChannelKind {
    if name == "/meta" || name.starts_with("/meta/") {
        ChannelKind::Meta
    } else if name == "/service" || name.starts_with("/service/") {
        ChannelKind::Service
    } else {
        ChannelKind::Broadcast
    }
}

/// Every subscription pattern that matches the concrete channel `name`: the name itself, its
/// parent's `*`, and `**` of every ancestor.
pub fn patterns_for(name: &str) -> Vec<String> {
    let mut out = vec![name.to_owned()];
    let mut cut = name.rfind('/').unwrap_or(0);
    out.push(format!("{}/*", &name[..cut]));
    loop {
        out.push(format!("{}/**", &name[..cut]));
        if cut == 0 {
            break;
        }
        cut = name[..cut].rfind('/').unwrap_or(0);
    }
    out
}

/// Whether `pattern` (possibly globbed) matches the concrete `name`.
pub fn matches(pattern: &str, name: &str) -> bool {
    patterns_for(name).iter().any(|p| p == pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_are_trailing_only() {
        assert!(matches("/foo/*", "/foo/bar"));
        assert!(!matches("/foo/*", "/foo"));
        assert!(!matches("/foo/*", "/foo/bar/baz"));
        assert!(matches("/foo/**", "/foo/bar/baz"));
        assert!(matches("/foo/**", "/foo/bar"));
        assert!(!matches("/foo/**", "/foo"));
        assert!(matches("/**", "/a"));
        assert!(matches("/*", "/a"));
        assert!(!matches("/*", "/a/b"));
        assert!(matches("/a/b", "/a/b"));
    }

    #[test]
    fn names_are_checked() {
        assert!(Channel::parse("/chat/room-1").is_ok());
        assert_eq!(Channel::parse("chat"), Err(ChannelError::Invalid));
        assert_eq!(Channel::parse("/"), Err(ChannelError::Invalid));
        assert_eq!(Channel::parse("/a//b"), Err(ChannelError::Invalid));
        assert_eq!(Channel::parse("/a/*/b"), Err(ChannelError::Wildcard));
        assert_eq!(Channel::parse("/a b"), Err(ChannelError::Invalid));
        assert_eq!(
            Channel::parse("/a/**").map(|c| c.glob),
            Ok(Some(Glob::Deep))
        );
        assert_eq!(Channel::concrete("/a/*"), Err(ChannelError::Wildcard));
        assert_eq!(kind_of("/meta/connect"), ChannelKind::Meta);
        assert_eq!(kind_of("/service/chatV2/x"), ChannelKind::Service);
        assert_eq!(kind_of("/metadata"), ChannelKind::Broadcast);
    }

    proptest::proptest! {
        #[test]
        fn patterns_match_what_matches_says(segs in proptest::collection::vec("[a-c]{1,2}", 1..5)) {
            let name = format!("/{}", segs.join("/"));
            for p in patterns_for(&name) {
                let ch = Channel::parse(&p);
                proptest::prop_assert!(ch.is_ok(), "pattern {} invalid", p);
            }
            proptest::prop_assert!(matches("/**", &name));
        }
    }
}
