//! customhttp bodies: `{"deviceId", "message"}` as GMS posts them (seed 002, reference
//! §4.2). `message` is the CometD notification `data` with the event (payload form), the
//! `PushUrl`/`PUSH-NOTIFICATION` trigger (reliable form), or the `customhttp.message`
//! override; without payload only `deviceId` is sent. The mobile channels get a [`Note`]:
//! a title and body from the templates, and the same GMS message when there is one.

use crate::config::{Content, CustomHttpConfig, PushConfig};
use crate::template::{self, Templates};
use chinwag_core::event::{Event, EventKind, Party, PartyType, UserData};
use chinwag_core::ids::{EventIndex, ParticipantId};
use chinwag_core::push::{JobKind, PushJob, Subscription};
use chinwag_core::roles::pushes::PushView;
use chinwag_core::session::CLIENT;
use chinwag_gms_wire::comet_key::{CometKey, CometKeys};
use chinwag_gms_wire::notification::Notification;
use serde::Serialize;
use serde_json::Value;

/// One push about to be built.
#[derive(Debug, Clone, Copy)]
pub struct Push<'a> {
    /// The job.
    pub job: &'a PushJob,
    /// The chat as it is now (see `ended_at_event` for what `chatEnded` says).
    pub view: &'a PushView,
    /// Its subscription.
    pub sub: &'a Subscription,
    /// The server keys sealing the CometD `secureKey` the push carries.
    pub keys: &'a CometKeys,
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

/// Whether the chat had ended at the announced event: a chat ends with its last event, so
/// only the push of that event says so (a push delivered late for an earlier event must not).
fn ended_at_event(p: Push<'_>) -> bool {
    p.view.ended && p.job.index.0.saturating_add(1) == p.view.next_position
}

/// Calls `f` with the GMS `message` for a push: the notification `data` with the event
/// (payload form), the reliable trigger, or the shutdown notice; `None` when the session
/// gets no payload (neither reliable nor `include_payload`: only `deviceId` is sent, the
/// shutdown notice included). Returns `None` when there is nothing to announce (the event
/// is gone).
fn with_message<R>(
    cfg: &PushConfig,
    p: Push<'_>,
    now_ms: i64,
    f: impl FnOnce(Option<&Notification<'_>>) -> R,
) -> Option<R> {
    let payload = p.sub.resend || p.sub.include_payload.unwrap_or(cfg.include_payload);
    if !payload {
        if p.job.kind == JobKind::Event {
            p.view.event.as_ref()?;
        }
        return Some(f(None));
    }
    let r = &p.view.record;
    let key = p
        .keys
        .seal(&CometKey::new(&r.service, &r.chat_id, &r.secure_key))?;
    // The shutdown notice is not a transcript event: the chat is open.
    let ended = p.job.kind == JobKind::Event && ended_at_event(p);
    let built;
    let (event, next) = if p.job.kind == JobKind::Shutdown {
        built = shutdown_notice(p, now_ms);
        (&built, None)
    } else if p.sub.resend {
        built = trigger(cfg, p, now_ms);
        (&built, Some(p.view.next_position))
    } else {
        let e = p.view.event.as_ref()?;
        (e, Some(e.index.0 + 1))
    };
    Some(f(Some(&Notification::ok(
        [event],
        Some(&key),
        ended,
        p.view.monitored,
        next,
    ))))
}

/// The GMS `message` for a push as JSON (see [`customhttp`] for the forms). `Some(None)`
/// when the session gets no payload; `None` when there is nothing to announce.
pub fn gms_message(cfg: &PushConfig, p: Push<'_>, now_ms: i64) -> Option<Option<Value>> {
    with_message(cfg, p, now_ms, |m| {
        m.and_then(|m| serde_json::to_value(m).ok())
    })
}

/// A customhttp body: `deviceId` and, unless the session gets no payload, `message`.
#[derive(Serialize)]
struct Body<'a, M: Serialize> {
    #[serde(rename = "deviceId")]
    device_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<M>,
}

/// The body to POST, serialized, or `None` when there is nothing to announce (the event
/// is gone).
pub fn customhttp(
    cfg: &PushConfig,
    channel: &CustomHttpConfig,
    p: Push<'_>,
    now_ms: i64,
) -> Option<Vec<u8>> {
    let device_id = p.sub.device_id.as_str();
    if let Some(text) = &channel.message {
        let body = Body {
            device_id,
            message: Some(text.as_str()),
        };
        return serde_json::to_vec(&body).ok();
    }
    with_message(cfg, p, now_ms, |message| {
        serde_json::to_vec(&Body { device_id, message }).ok()
    })?
}

/// What a mobile notification (FCM, APNs) shows and carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// Shown title.
    pub title: String,
    /// Shown body.
    pub body: String,
    /// The event type announced.
    pub event: &'static str,
    /// Position of the event announced.
    pub index: u64,
    /// The GMS message (payload or reliable form), when the session gets one.
    pub message: Option<Value>,
}

/// Longest title shown (characters): FCM and APNs refuse payloads over 4 KB.
const MAX_TITLE: usize = 200;
/// Longest body shown (characters); a long chat message is cut, the app has the rest.
const MAX_BODY: usize = 1000;

/// `text` cut to `max` characters, ending with "…" when cut.
fn shorten(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text,
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

/// The mobile notification for a push, its text from `templates` (provider first, then
/// `[push]`), or `None` when there is nothing to announce.
pub fn note(
    cfg: &PushConfig,
    templates: (&Templates, &Templates),
    p: Push<'_>,
    now_ms: i64,
) -> Option<Note> {
    let shown = if p.job.kind == JobKind::Shutdown {
        shutdown_notice(p, now_ms)
    } else {
        p.view.event.clone()?
    };
    let (title, body) = template::render(&shown, templates.0, templates.1);
    Some(Note {
        title: shorten(title, MAX_TITLE),
        body: shorten(body, MAX_BODY),
        event: shown.kind.as_str(),
        index: p.job.index.0,
        message: gms_message(cfg, p, now_ms)?,
    })
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        assert_eq!(shorten("héllo".into(), 10), "héllo");
        assert_eq!(shorten("héllo".into(), 2), "hé…");
    }
}
