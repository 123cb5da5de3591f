//! Notification title and body per event type for the mobile channels (FCM, APNs): the
//! seed's English defaults, with `%s` standing for the party's name, overridable per event
//! (`[push.templates.<Event>]`) and per provider (`[push.provider.<name>.templates.<Event>]`).

use chinwag_core::event::{Event, EventKind};
use std::collections::HashMap;

/// A title and a body; either may be left to the next level (provider → `[push]` →
/// built-in default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template {
    /// The title, `%s` = party name.
    pub title: Option<String>,
    /// The body, `%s` = party name.
    pub body: Option<String>,
}

/// Overrides, by event type.
pub type Templates = HashMap<EventKind, Template>;

/// The pushed event types, by wire name, for configuration keys.
pub fn kind_by_name(name: &str) -> Option<EventKind> {
    [
        EventKind::ParticipantJoined,
        EventKind::ParticipantLeft,
        EventKind::Message,
        EventKind::PushUrl,
        EventKind::FileUploaded,
        EventKind::IdleAlert,
        EventKind::IdleClose,
    ]
    .into_iter()
    .find(|k| k.as_str() == name)
}

/// Where the default body comes from.
enum Body {
    Fixed(&'static str),
    /// The event's text (the message, or the pushed URL).
    Text,
}

/// The seed's defaults ("Push Notification Events").
fn default_of(kind: EventKind) -> (&'static str, Body) {
    match kind {
        EventKind::ParticipantJoined => {
            ("Chat participants changed", Body::Fixed("%s joined chat"))
        }
        EventKind::ParticipantLeft => ("Chat participants changed", Body::Fixed("%s left chat")),
        EventKind::PushUrl => ("%s suggests Web page", Body::Text),
        EventKind::FileUploaded => (
            "%s suggests to download file",
            Body::Fixed("Open app for more info"),
        ),
        EventKind::IdleAlert => (
            "Chat will close soon",
            Body::Fixed("Please use app if you want to continue"),
        ),
        EventKind::IdleClose => (
            "Chat is over",
            Body::Fixed("Your chat session was ended due to inactivity"),
        ),
        _ => ("%s sent new message", Body::Text),
    }
}

/// `%s` replaced by `name` (every occurrence).
fn fill(pattern: &str, name: &str) -> String {
    pattern.replace("%s", name)
}

/// The title and body for `event`, looking in `provider` first, then `base`, then the
/// defaults.
pub fn render(event: &Event, provider: &Templates, base: &Templates) -> (String, String) {
    let name: &str = &event.from.nickname;
    let pick = |f: fn(&Template) -> Option<&String>| {
        provider
            .get(&event.kind)
            .and_then(f)
            .or_else(|| base.get(&event.kind).and_then(f))
            .cloned()
    };
    let (title, body) = default_of(event.kind);
    let title = fill(pick(|t| t.title.as_ref()).as_deref().unwrap_or(title), name);
    let body = match (pick(|t| t.body.as_ref()), body) {
        (Some(b), _) => fill(&b, name),
        (None, Body::Fixed(b)) => fill(b, name),
        (None, Body::Text) => event.text.as_deref().unwrap_or_default().to_owned(),
    };
    (title, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chinwag_core::event::{Party, PartyType};
    use chinwag_core::ids::{EventIndex, ParticipantId};

    fn event(kind: EventKind, nick: &str, text: Option<&str>) -> Event {
        Event {
            index: EventIndex(3),
            kind,
            from: Party {
                nickname: nick.into(),
                participant_id: ParticipantId(2),
                party_type: PartyType::Agent,
            },
            text: text.map(Into::into),
            message_type: None,
            utc_time_ms: 0,
            user_data: None,
            event_attributes: None,
        }
    }

    #[test]
    fn defaults_follow_the_seed() {
        let none = Templates::new();
        let cases = [
            (
                event(EventKind::Message, "Ann", Some("hello")),
                ("Ann sent new message", "hello"),
            ),
            (
                event(EventKind::ParticipantJoined, "Ann", None),
                ("Chat participants changed", "Ann joined chat"),
            ),
            (
                event(EventKind::ParticipantLeft, "Ann", None),
                ("Chat participants changed", "Ann left chat"),
            ),
            (
                event(EventKind::PushUrl, "Ann", Some("https://x.example")),
                ("Ann suggests Web page", "https://x.example"),
            ),
            (
                event(EventKind::FileUploaded, "Ann", None),
                ("Ann suggests to download file", "Open app for more info"),
            ),
            (
                event(EventKind::IdleAlert, "", None),
                (
                    "Chat will close soon",
                    "Please use app if you want to continue",
                ),
            ),
            (
                event(EventKind::IdleClose, "", None),
                (
                    "Chat is over",
                    "Your chat session was ended due to inactivity",
                ),
            ),
        ];
        for (e, (t, b)) in cases {
            assert_eq!(render(&e, &none, &none), (t.to_owned(), b.to_owned()));
        }
    }

    #[test]
    fn provider_overrides_base_overrides_default() {
        let e = event(EventKind::Message, "Ann", Some("hi"));
        let base = Templates::from([(
            EventKind::Message,
            Template {
                title: Some("Nouveau message de %s".into()),
                body: Some("%s a écrit".into()),
            },
        )]);
        let provider = Templates::from([(
            EventKind::Message,
            Template {
                title: Some("Neue Nachricht von %s".into()),
                body: None,
            },
        )]);
        assert_eq!(
            render(&e, &provider, &base),
            ("Neue Nachricht von Ann".into(), "Ann a écrit".into())
        );
        assert_eq!(kind_by_name("IdleClose"), Some(EventKind::IdleClose));
        assert_eq!(kind_by_name("Notice"), None);
    }
}
