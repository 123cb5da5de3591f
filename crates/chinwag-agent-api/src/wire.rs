//! JSON shapes of the agent API (snake_case), built from engine views.

use chinwag_core::roles::agents::{AgentChatView, AgentStatus};
use serde_json::{Value, json};

pub(crate) fn status(s: &AgentStatus) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "logged_in": s.logged_in,
        "ready": s.ready,
        "capacity": s.capacity,
        "chats": s.chats,
        "offers": s.offers.iter().map(|o| json!({
            "chat_id": o.chat_id, "service": o.service, "expires_ms": o.expires_ms,
        })).collect::<Vec<_>>(),
    })
}

pub(crate) fn chat(v: &AgentChatView) -> Value {
    json!({
        "chat_id": v.chat_id,
        "service": v.service,
        "subject": v.subject,
        "email": v.email,
        "user_data": v.user_data,
        "ended": v.ended,
        "participants": v.participants,
        "events": v.events,
        "next_position": v.next_position,
    })
}
