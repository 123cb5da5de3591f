//! What travels on a partition's feed channel: an announcement `<rev>:<chatId>`, published by
//! the commit script, or a probe `probe:<feed>:<n>`, which a feed sends itself to check that
//! its subscription still delivers. Anything else (too long, not UTF-8, no number) is ignored.
//! On the routing channel: `<version>:<news>` (news as the engine encoded it, any bytes),
//! published by the routing save script, or a probe.

use chinwag_core::ids::ChatId;

/// Longest payload read; longer ones are dropped unread (chat ids are short).
pub(crate) const MAX_PAYLOAD: usize = 512;

/// Longest routing announcement read (the engine's bound on news, and the version).
pub(crate) const MAX_ROUTING_PAYLOAD: usize = chinwag_core::engine::MAX_NEWS_BYTES + 32;

/// A parsed routing channel message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoutingMessage {
    /// A save produced `version` and announced `news`.
    Saved { version: u64, news: Vec<u8> },
    /// Probe `n` of the feed `feed`.
    Probe { feed: u64, n: u64 },
}

/// Reads a routing channel payload; `None` for anything malformed.
pub(crate) fn parse_routing(payload: &[u8]) -> Option<RoutingMessage> {
    if payload.len() > MAX_ROUTING_PAYLOAD {
        return None;
    }
    if payload.starts_with(b"probe:") {
        return match parse(payload)? {
            Message::Probe { feed, n } => Some(RoutingMessage::Probe { feed, n }),
            Message::Changed { .. } => None,
        };
    }
    let colon = payload.iter().position(|b| *b == b':')?;
    let version = number(std::str::from_utf8(&payload[..colon]).ok()?)?;
    let news = payload[colon + 1..].to_vec();
    (!news.is_empty()).then_some(RoutingMessage::Saved { version, news })
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Message {
    /// Revision `rev` of `chat_id` was committed.
    Changed { chat_id: ChatId, rev: u64 },
    /// Probe `n` of the feed `feed`.
    Probe { feed: u64, n: u64 },
}

/// The payload of probe `n` of feed `feed`.
pub(crate) fn probe(feed: u64, n: u64) -> String {
    format!("probe:{feed}:{n}")
}

/// Reads a payload; `None` for anything malformed.
pub(crate) fn parse(payload: &[u8]) -> Option<Message> {
    if payload.len() > MAX_PAYLOAD {
        return None;
    }
    let text = std::str::from_utf8(payload).ok()?;
    if let Some(rest) = text.strip_prefix("probe:") {
        let (feed, n) = rest.split_once(':')?;
        return Some(Message::Probe {
            feed: number(feed)?,
            n: number(n)?,
        });
    }
    let (rev, chat) = text.split_once(':')?;
    if chat.is_empty() || chat.chars().any(char::is_control) {
        return None;
    }
    Some(Message::Changed {
        chat_id: ChatId::new(chat),
        rev: number(rev)?,
    })
}

/// Decimal digits only (no sign, no spaces), within `u64`.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_and_probes_parse() {
        assert_eq!(
            parse(b"7:AbC123"),
            Some(Message::Changed {
                chat_id: ChatId::new("AbC123"),
                rev: 7
            })
        );
        // A chat id may itself hold a colon: only the first one splits.
        assert_eq!(
            parse(b"1:a:b"),
            Some(Message::Changed {
                chat_id: ChatId::new("a:b"),
                rev: 1
            })
        );
        assert_eq!(
            parse(probe(42, 3).as_bytes()),
            Some(Message::Probe { feed: 42, n: 3 })
        );
    }

    #[test]
    fn routing_announcements_parse_and_malformed_ones_are_ignored() {
        assert_eq!(
            parse_routing(b"12:{\"n\":1}\xff:x"),
            Some(RoutingMessage::Saved {
                version: 12,
                news: b"{\"n\":1}\xff:x".to_vec()
            })
        );
        assert_eq!(
            parse_routing(probe(4, 2).as_bytes()),
            Some(RoutingMessage::Probe { feed: 4, n: 2 })
        );
        let long = vec![b'1'; MAX_ROUTING_PAYLOAD + 1];
        for bad in [
            &b""[..],
            b"12",
            b"12:",
            b":x",
            b"x:y",
            b"-1:x",
            b"probe:1",
            &long,
        ] {
            assert_eq!(
                parse_routing(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn malformed_payloads_are_ignored() {
        let long = format!("1:{}", "x".repeat(MAX_PAYLOAD));
        for bad in [
            &b""[..],
            b"hello",
            b":chat",
            b"1:",
            b"-1:chat",
            b"+1:chat",
            b" 1:chat",
            b"99999999999999999999999:chat",
            b"1:ch\nat",
            b"\xff\xfe:chat",
            b"probe:1",
            b"probe:x:1",
            long.as_bytes(),
        ] {
            assert_eq!(parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
