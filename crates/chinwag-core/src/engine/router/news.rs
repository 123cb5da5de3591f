//! What a node announces when it saves the shared routing state, and what the other nodes
//! do with it: the save's routing events (offers made and withdrawn, agents' readiness) are
//! published on each node's own bus, so an agent's event stream on any node hears them.
//!
//! An announcement is JSON `{"n": <origin>, "e": [events]}`; a node skips its own (it
//! published them when it saved), except a save whose outcome it did not know (timed out).
//! A node hearing that a chat it does not hold was offered loads it, so that the chat's later
//! events (written on whichever node) reach its agent's stream here too.
//!
//! Announcements are at most once (see [`RoutingStore`](crate::ports::RoutingStore)): an
//! agent whose node missed one sees the offer in its status (`GET /agent/v1/me`).

use super::Router;
use crate::bus::{BusEvent, OfferEnd};
use crate::engine::ChatEngine;
use crate::ids::{AgentId, ChatId, ServiceName};
use crate::ports::RoutingNews;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// Longest announcement read (bytes); longer ones are dropped unread.
pub const MAX_NEWS_BYTES: usize = 1 << 20;

#[derive(Serialize, Deserialize)]
struct News {
    #[serde(rename = "n")]
    origin: u64,
    #[serde(rename = "e")]
    events: Vec<Wire>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "t")]
enum Wire {
    #[serde(rename = "offer")]
    Offered {
        a: AgentId,
        c: ChatId,
        s: ServiceName,
        x: i64,
    },
    #[serde(rename = "withdrawn")]
    Withdrawn { a: AgentId, c: ChatId, r: String },
    #[serde(rename = "state")]
    State {
        a: AgentId,
        r: bool,
        /// The not-ready reason (absent from older nodes' news).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        w: Option<String>,
    },
}

fn reason_name(r: OfferEnd) -> &'static str {
    match r {
        OfferEnd::Timeout => "timeout",
        OfferEnd::Rejected => "rejected",
        OfferEnd::ChatEnded => "chat_ended",
        OfferEnd::TakenOver => "taken_over",
    }
}

fn reason(name: &str) -> Option<OfferEnd> {
    Some(match name {
        "timeout" => OfferEnd::Timeout,
        "rejected" => OfferEnd::Rejected,
        "chat_ended" => OfferEnd::ChatEnded,
        "taken_over" => OfferEnd::TakenOver,
        _ => return None,
    })
}

/// The announcement of `events` by `origin`; empty (nothing to announce) without routing
/// events.
pub(super) fn encode(origin: u64, events: &[BusEvent]) -> Vec<u8> {
    let events: Vec<Wire> = events
        .iter()
        .filter_map(|e| match e {
            BusEvent::Offered {
                agent_id,
                chat_id,
                service,
                expires_ms,
            } => Some(Wire::Offered {
                a: agent_id.clone(),
                c: chat_id.clone(),
                s: service.clone(),
                x: *expires_ms,
            }),
            BusEvent::OfferWithdrawn {
                agent_id,
                chat_id,
                reason,
            } => Some(Wire::Withdrawn {
                a: agent_id.clone(),
                c: chat_id.clone(),
                r: reason_name(*reason).into(),
            }),
            BusEvent::AgentState {
                agent_id,
                ready,
                reason,
            } => Some(Wire::State {
                a: agent_id.clone(),
                r: *ready,
                w: reason.clone(),
            }),
            _ => None,
        })
        .collect();
    if events.is_empty() {
        return Vec::new();
    }
    let count = events.len();
    let bytes = serde_json::to_vec(&News { origin, events }).unwrap_or_default();
    if bytes.len() > MAX_NEWS_BYTES {
        // Receivers would drop it unread; the agents see these offers in their status.
        tracing::warn!(
            events = count,
            bytes = bytes.len(),
            "routing news too long to announce"
        );
        return Vec::new();
    }
    bytes
}

/// The origin and events of an announcement; `None` when malformed or too long.
fn decode(bytes: &[u8]) -> Option<(u64, Vec<BusEvent>)> {
    if bytes.len() > MAX_NEWS_BYTES {
        return None;
    }
    let news: News = serde_json::from_slice(bytes).ok()?;
    let events = news
        .events
        .into_iter()
        .map(|w| {
            Some(match w {
                Wire::Offered { a, c, s, x } => BusEvent::Offered {
                    agent_id: a,
                    chat_id: c,
                    service: s,
                    expires_ms: x,
                },
                Wire::Withdrawn { a, c, r } => BusEvent::OfferWithdrawn {
                    agent_id: a,
                    chat_id: c,
                    reason: reason(&r)?,
                },
                Wire::State { a, r, w } => BusEvent::AgentState {
                    agent_id: a,
                    ready: r,
                    reason: w,
                },
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some((news.origin, events))
}

impl ChatEngine {
    /// Another node's save of the shared routing state (version `version`) announced
    /// `news`: publishes its events here, and holds the chats it offered.
    pub async fn hear_routing(&self, version: u64, news: &[u8]) {
        let Router::Shared(shared) = &self.router else {
            return;
        };
        let Some((origin, events)) = decode(news) else {
            tracing::debug!(version, "routing announcement malformed: ignored");
            return;
        };
        if origin == shared.origin && !shared.take_unsure(version) {
            return;
        }
        let mut offered = Vec::new();
        for e in events {
            if let BusEvent::Offered { chat_id, .. } = &e {
                offered.push(chat_id.clone());
            }
            self.bus.publish(e);
        }
        for chat in offered {
            if let Err(err) = self.slot_or_load(&chat).await {
                tracing::debug!(chat = %chat.as_str(), %err, "cannot load an offered chat");
            }
        }
    }
}

/// Hears the announcements of the shared routing state's saves and publishes other nodes'
/// routing events on this node's bus. Runs only where routing is shared.
pub struct RoutingNewsWorker {
    engine: Arc<ChatEngine>,
    rx: broadcast::Receiver<RoutingNews>,
}

impl RoutingNewsWorker {
    /// The worker for `engine`, listening from now on; `None` when `engine` routes alone.
    pub fn new(engine: Arc<ChatEngine>) -> Option<Self> {
        let rx = match &engine.router {
            Router::Shared(shared) => shared.subscribe(),
            Router::Local(_) => return None,
        };
        Some(Self { engine, rx })
    }

    /// Worker name for logs and health.
    pub fn name(&self) -> &'static str {
        "routing-news"
    }

    /// Runs until cancelled or until the announcements end.
    pub async fn run(self, cancel: CancellationToken) {
        let mut rx = self.rx;
        loop {
            let next = tokio::select! {
                () = cancel.cancelled() => break,
                next = rx.recv() => next,
            };
            match next {
                Ok(RoutingNews::Saved { version, news }) => {
                    self.engine.hear_routing(version, &news).await;
                }
                Ok(RoutingNews::Resync) | Err(RecvError::Lagged(_)) => {
                    // Offers announced meanwhile show in the agents' status; the routing
                    // worker picks up the state (and its deadlines) on its next pass.
                    tracing::debug!("routing announcements may have been missed");
                    self.engine.router_wake.notify_one();
                }
                Err(RecvError::Closed) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_round_trip_and_bad_ones_are_refused() {
        let events = vec![
            BusEvent::Offered {
                agent_id: AgentId::new("a"),
                chat_id: ChatId::new("c"),
                service: ServiceName::new("s"),
                expires_ms: 5,
            },
            BusEvent::OfferWithdrawn {
                agent_id: AgentId::new("a"),
                chat_id: ChatId::new("c"),
                reason: OfferEnd::Timeout,
            },
            BusEvent::AgentState {
                agent_id: AgentId::new("a"),
                ready: false,
                reason: Some("Lunch".into()),
            },
            BusEvent::AgentState {
                agent_id: AgentId::new("b"),
                ready: true,
                reason: None,
            },
        ];
        let bytes = encode(7, &events);
        let (origin, back) = decode(&bytes).unwrap_or_default();
        assert_eq!(origin, 7);
        assert_eq!(format!("{back:?}"), format!("{events:?}"));
        assert!(encode(7, &[]).is_empty(), "nothing to announce");
        // An older node's state news (no reason) still reads.
        let old = decode(br#"{"n":2,"e":[{"t":"state","a":"a","r":false}]}"#);
        assert!(
            matches!(
                old.as_ref().map(|(_, e)| e.as_slice()),
                Some([BusEvent::AgentState { reason: None, .. }])
            ),
            "{old:?}"
        );
        for bad in [
            &b"x"[..],
            br#"{"n":1,"e":[{"t":"withdrawn","a":"a","c":"c","r":"why"}]}"#,
            br#"{"n":1,"e":[{"t":"nope"}]}"#,
        ] {
            assert!(decode(bad).is_none(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
