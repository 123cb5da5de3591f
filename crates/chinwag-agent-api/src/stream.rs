//! `GET /agent/v1/events`: the WebSocket event stream of one agent. It sends the agent's
//! current status first, then every bus event that concerns the agent, as JSON text frames.
//! A stream that falls behind the bus gets `{"type":"resync"}` and should reload its state.

use crate::AgentState;
use crate::error::ApiError;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chinwag_core::bus::{BusEvent, OfferEnd};
use chinwag_core::ids::AgentId;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

#[derive(Deserialize)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

/// # `GET /agent/v1/events` (WebSocket)
pub(crate) async fn events(
    State(st): State<AgentState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let id = match q.token {
        Some(t) => st.engine.authenticate(&t)?,
        None => crate::handlers::agent(&st, &headers)?,
    };
    Ok(ws
        .on_upgrade(move |socket| run(st, id, socket))
        .into_response())
}

fn for_agent(e: &BusEvent, me: &AgentId) -> Option<Value> {
    Some(match e {
        BusEvent::Transcript {
            chat_id,
            agents,
            event,
            ..
        } if agents.contains(me) => {
            json!({"type": "event", "chat_id": chat_id, "event": event})
        }
        BusEvent::Offered {
            agent_id,
            chat_id,
            service,
            expires_ms,
        } if agent_id == me => {
            json!({"type": "offer", "chat_id": chat_id, "service": service, "expires_ms": expires_ms})
        }
        BusEvent::OfferWithdrawn {
            agent_id,
            chat_id,
            reason,
        } if agent_id == me => {
            let reason = match reason {
                OfferEnd::Timeout => "timeout",
                OfferEnd::Rejected => "rejected",
                OfferEnd::ChatEnded => "chat_ended",
            };
            json!({"type": "offer_withdrawn", "chat_id": chat_id, "reason": reason})
        }
        BusEvent::AgentState { agent_id, ready } if agent_id == me => {
            json!({"type": "state", "ready": ready})
        }
        BusEvent::ReadReceipt {
            chat_id,
            agents,
            participant_id,
            index,
        } if agents.contains(me) => {
            json!({"type": "read_receipt", "chat_id": chat_id, "participant_id": participant_id, "index": index})
        }
        BusEvent::TypingPreview {
            chat_id,
            agents,
            text,
        } if agents.contains(me) => {
            json!({"type": "typing_preview", "chat_id": chat_id, "text": text})
        }
        BusEvent::ChatEnded { chat_id, agents } if agents.contains(me) => {
            json!({"type": "chat_ended", "chat_id": chat_id})
        }
        _ => return None,
    })
}

async fn run(st: AgentState, me: AgentId, socket: WebSocket) {
    let mut bus = st.engine.bus().subscribe();
    let (mut tx, mut rx) = socket.split();
    let hello =
        json!({"type": "status", "status": crate::wire::status(&st.engine.agent_status(&me))});
    if tx
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    loop {
        let out = tokio::select! {
            () = st.shutdown.cancelled() => break,
            incoming = rx.next() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
            event = bus.recv() => match event {
                Ok(e) => match for_agent(&e, &me) { Some(v) => v, None => continue },
                Err(RecvError::Lagged(_)) => json!({"type": "resync"}),
                Err(RecvError::Closed) => break,
            },
        };
        if tx
            .send(Message::Text(out.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let _ = tx.send(Message::Close(None)).await;
}
