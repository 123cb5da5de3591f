//! `GET /health`: liveness plus the identity clients need to detect a restart
//! (`app_dbid` = GMS alias, `process_os_pid`).

use axum::Json;
use axum::extract::State;
use chinwag_core::ChatEngine;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// State of the health endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Health {
    pub(crate) engine: Arc<ChatEngine>,
    pub(crate) started: Instant,
    pub(crate) push: Option<Arc<chinwag_push::PushStats>>,
    pub(crate) connections: Arc<chinwag_http::ConnStats>,
}

/// # `GET /health`
pub(crate) async fn health(State(h): State<Health>) -> Json<Value> {
    let c = &h.connections;
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "app_dbid": h.engine.alias().0,
        "process_os_pid": std::process::id(),
        "uptime_secs": h.started.elapsed().as_secs(),
        "open_sessions": h.engine.open_sessions(),
        "quarantined_chats": h.engine.quarantined(),
        "push": h.push.as_ref().map(|p| p.snapshot()),
        "connections": {
            "open": c.open.load(Ordering::Relaxed),
            "refused_full": c.refused_full.load(Ordering::Relaxed),
            "refused_per_address": c.refused_per_address.load(Ordering::Relaxed),
            "timed_out": c.timed_out.load(Ordering::Relaxed),
        },
    }))
}
