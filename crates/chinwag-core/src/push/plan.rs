//! Which new transcript events become pushes: the GMS rules (seven event types, never
//! notices or file deletions; the customer's own events only with `NotifyRequestor`), the
//! enabled channels, and `flex-push-timeout`.

use super::subscription::{DeviceType, Subscription};
use crate::event::{Event, EventKind};
use crate::session::{CLIENT, SessionRecord};

/// Push settings the engine needs (the delivery side has its own).
#[derive(Debug, Clone, Default)]
pub struct PushSettings {
    /// Channels enabled (`pushEnabled`); empty turns push off.
    pub enabled: Vec<DeviceType>,
    /// `flex-push-on-join`: a REST requestChat with `GCTI_Chat_PushSubscribe=true` subscribes.
    pub on_join: bool,
    /// `flex-push-timeout`: pushes stop once the client has made no request for this long.
    pub timeout_ms: Option<i64>,
    /// `shutdown-notify-flex-push`: on a managed shutdown, tell subscribed clients to
    /// reconnect.
    pub shutdown_notify: bool,
}

impl PushSettings {
    /// Whether any channel is on.
    pub fn enabled(&self) -> bool {
        !self.enabled.is_empty()
    }

    /// The session's subscription, if it has one on an enabled channel.
    pub fn subscription(&self, record: &SessionRecord) -> Option<Subscription> {
        if !self.enabled() {
            return None;
        }
        Subscription::from_user_data(&record.user_data, self.on_join)
            .filter(|s| self.enabled.contains(&s.device_type))
    }
}

/// Event types that are pushed (GMS "Push Notification Events").
pub(crate) fn pushed_kind(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::ParticipantJoined
            | EventKind::ParticipantLeft
            | EventKind::Message
            | EventKind::PushUrl
            | EventKind::FileUploaded
            | EventKind::IdleAlert
            | EventKind::IdleClose
    )
}

/// The device and the events of `events` to push for a session whose record is `record`
/// (after the change). `client_seen_ms` is the customer's last request.
pub fn plan<'a>(
    settings: &PushSettings,
    record: &SessionRecord,
    events: &'a [Event],
    client_seen_ms: i64,
    now_ms: i64,
) -> Option<(String, Vec<&'a Event>)> {
    let sub = settings.subscription(record)?;
    if settings
        .timeout_ms
        .is_some_and(|t| now_ms.saturating_sub(client_seen_ms) > t)
    {
        return None;
    }
    let picked: Vec<&Event> = events
        .iter()
        .filter(|e| pushed_kind(e.kind))
        .filter(|e| sub.notify_requestor || e.from.participant_id != CLIENT)
        .collect();
    (!picked.is_empty()).then(|| (sub.device_key(), picked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Party, PartyType};
    use crate::ids::{
        ChatId, EventIndex, NodeAlias, ParticipantId, SecureKey, ServiceName, UserId,
    };

    fn record(pairs: &[(&str, &str)]) -> SessionRecord {
        SessionRecord {
            chat_id: ChatId::new("c"),
            service: ServiceName::new("s"),
            user_id: UserId::new("u"),
            secure_key: SecureKey::new("k"),
            alias: NodeAlias(1),
            created_ms: 0,
            ended_ms: None,
            subject: None,
            email: None,
            first_name: None,
            last_name: None,
            user_data: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            participants: Vec::new(),
            downloads: Default::default(),
        }
    }

    fn event(index: u64, kind: EventKind, who: u32) -> Event {
        Event {
            index: EventIndex(index),
            kind,
            from: Party {
                nickname: "n".into(),
                participant_id: ParticipantId(who),
                party_type: if who == 1 {
                    PartyType::Client
                } else {
                    PartyType::Agent
                },
            },
            text: None,
            message_type: None,
            utc_time_ms: 0,
            user_data: None,
            event_attributes: None,
        }
    }

    fn settings() -> PushSettings {
        PushSettings {
            enabled: vec![DeviceType::CustomHttp],
            on_join: true,
            timeout_ms: Some(1000),
            shutdown_notify: true,
        }
    }

    const SUB: [(&str, &str); 3] = [
        ("GCTI_Chat_PushSubscribe", "true"),
        ("GCTI_GMS_PushDeviceId", "d"),
        ("GCTI_GMS_PushDeviceType", "customhttp"),
    ];

    #[test]
    fn only_the_seven_kinds_from_others_are_pushed() {
        let events = [
            event(1, EventKind::ParticipantJoined, 1),
            event(2, EventKind::Message, 2),
            event(3, EventKind::Notice, 2),
            event(4, EventKind::CustomNotice, 2),
            event(5, EventKind::FileDeleted, 2),
            event(6, EventKind::TypingStarted, 2),
            event(7, EventKind::IdleAlert, 2),
        ];
        let (device, picked) = plan(&settings(), &record(&SUB), &events, 0, 10).unwrap_or_default();
        assert_eq!(device, "customhttp:d");
        let idx: Vec<u64> = picked.iter().map(|e| e.index.0).collect();
        assert_eq!(idx, [2, 7]);
        let mut with_own = SUB.to_vec();
        with_own.push(("GCTI_GMS_NotifyRequestor", "true"));
        let picked = plan(&settings(), &record(&with_own), &events, 0, 10).map(|p| p.1.len());
        assert_eq!(picked, Some(3));
    }

    #[test]
    fn disabled_channels_and_idle_clients_get_nothing() {
        let events = [event(2, EventKind::Message, 2)];
        let off = PushSettings {
            enabled: vec![DeviceType::Fcm],
            ..settings()
        };
        assert!(plan(&off, &record(&SUB), &events, 0, 10).is_none());
        assert!(plan(&settings(), &record(&SUB), &events, 0, 5_000).is_none());
        assert!(plan(&settings(), &record(&SUB), &events, 4_500, 5_000).is_some());
    }
}
