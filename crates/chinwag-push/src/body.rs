//! customhttp bodies: `{"deviceId", "message"}` as GMS posts them (seed 002, reference
//! §4.2). `message` is the CometD notification `data` with the event (payload form), the
//! `PushUrl`/`PUSH-NOTIFICATION` trigger (reliable form), or the `customhttp.message`
//! override; without payload only `deviceId` is sent.

use crate::config::{Content, CustomHttpConfig, PushConfig};
use chinwag_core::comet_key::CometKey;
use chinwag_core::engine::PushView;
use chinwag_core::event::{Event, EventKind, Party, PartyType, UserData};
use chinwag_core::ids::{EventIndex, ParticipantId};
use chinwag_core::push::{JobKind, PushJob, Subscription};
use chinwag_core::session::CLIENT;
use chinwag_gms_wire::notification::Notification;
use serde_json::{Value, json};

/// One push about to be built.
#[derive(Debug, Clone, Copy)]
pub struct Push<'a> {
    /// The job.
    pub job: &'a PushJob,
    /// The chat as it is now.
    pub view: &'a PushView,
    /// Its subscription.
    pub sub: &'a Subscription,
}

/// First position the customer has not fetched, as `notify-position`: `-1` once the
/// customer has left the chat.
fn notify_position(p: Push<'_>) -> i64 {
    let left = p
        .view
        .record
        .participants
        .iter()
        .any(|x| x.id == CLIENT && !x.present());
    if left {
        return -1;
    }
    let index = p.job.index.0;
    let first_unread = match p.view.client_next {
        n if n > 0 && n <= index => n,
        _ => index,
    };
    i64::try_from(first_unread).unwrap_or(i64::MAX)
}

fn trigger(cfg: &PushConfig, p: Push<'_>, now_ms: i64) -> Event {
    let r = &p.view.record;
    let mut data = UserData::new();
    data.insert("notify-attempt".into(), p.job.attempt.to_string());
    data.insert("notify-position".into(), notify_position(p).to_string());
    for c in &cfg.content {
        let (k, v) = match c {
            Content::AppDbid => ("app-dbid", r.alias.0.to_string()),
            Content::SecureKey => ("secure-key", r.secure_key.as_str().to_owned()),
            Content::SessionId => ("session-id", r.chat_id.as_str().to_owned()),
            Content::UserId => ("user-id", r.user_id.as_str().to_owned()),
        };
        data.insert(k.into(), v);
    }
    Event {
        index: EventIndex(0),
        kind: EventKind::PushUrl,
        from: Party {
            nickname: "".into(),
            participant_id: ParticipantId(0),
            party_type: PartyType::Client,
        },
        text: Some("PUSH-NOTIFICATION".into()),
        message_type: None,
        utc_time_ms: now_ms,
        user_data: Some(Box::new(data)),
        event_attributes: None,
    }
}

fn shutdown_notice(p: Push<'_>, now_ms: i64) -> Event {
    let nickname = p
        .view
        .record
        .participants
        .iter()
        .find(|x| x.id == CLIENT)
        .map_or_else(|| "".into(), |x| x.nickname.clone());
    let data = UserData::from([("quit-reason-advice".to_owned(), "reconnect".to_owned())]);
    Event {
        index: EventIndex(0),
        kind: EventKind::ParticipantLeft,
        from: Party {
            nickname,
            participant_id: CLIENT,
            party_type: PartyType::Client,
        },
        text: None,
        message_type: None,
        utc_time_ms: now_ms,
        user_data: Some(Box::new(data)),
        event_attributes: None,
    }
}

/// The body to POST, or `None` when there is nothing to announce (the event is gone).
pub fn customhttp(
    cfg: &PushConfig,
    channel: &CustomHttpConfig,
    p: Push<'_>,
    now_ms: i64,
) -> Option<Value> {
    let device = p.sub.device_id.as_str();
    if let Some(text) = &channel.message {
        return Some(json!({"deviceId": device, "message": text}));
    }
    let r = &p.view.record;
    let key = CometKey::new(&r.service, &r.chat_id, &r.secure_key).encode();
    let (ended, monitored) = (p.view.ended, p.view.monitored);
    let message = if p.job.kind == JobKind::Shutdown {
        let e = shutdown_notice(p, now_ms);
        serde_json::to_value(Notification::ok([&e], Some(&key), false, monitored, None)).ok()?
    } else if p.sub.resend {
        let e = trigger(cfg, p, now_ms);
        let next = Some(p.view.next_position);
        serde_json::to_value(Notification::ok([&e], Some(&key), ended, monitored, next)).ok()?
    } else if p.sub.include_payload.unwrap_or(cfg.include_payload) {
        let e = p.view.event.as_ref()?;
        let next = Some(e.index.0 + 1);
        serde_json::to_value(Notification::ok([e], Some(&key), ended, monitored, next)).ok()?
    } else {
        p.view.event.as_ref()?;
        return Some(json!({"deviceId": device}));
    };
    Some(json!({"deviceId": device, "message": message}))
}
