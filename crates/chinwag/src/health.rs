//! `GET /health`: whether this node is fit to serve (the store answers, no background worker
//! failed), the identity clients and operators need (`app_dbid` = GMS alias,
//! `process_os_pid`, host, start time), and its counters. `200` with `"status": "ok"`, else
//! `503` with the same body and `"problems"` naming what fails, so a load balancer can act
//! on the status alone. Every field is documented in the operator's guide.

use crate::probe::StoreHealth;
use crate::supervisor::Workers;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chinwag_core::ChatEngine;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Who this node is.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Node {
    /// The configured `[server] node_id` (also `app_dbid`).
    pub(crate) id: u32,
    /// The machine's host name.
    pub(crate) hostname: String,
    /// The address it listens on.
    pub(crate) listen: String,
    /// When the process started serving, in milliseconds since the Unix epoch.
    pub(crate) started_ms: i64,
}

impl Node {
    /// This node: `id`, the host name, `listen`, started now.
    pub(crate) fn here(id: u32, listen: String, started_ms: i64) -> Self {
        Self {
            id,
            hostname: rustix::system::uname()
                .nodename()
                .to_string_lossy()
                .into_owned(),
            listen,
            started_ms,
        }
    }
}

/// State of the health endpoint.
#[derive(Clone, Debug)]
pub(crate) struct Health {
    pub(crate) engine: Arc<ChatEngine>,
    pub(crate) node: Arc<Node>,
    pub(crate) started: Instant,
    pub(crate) push: Option<Arc<chinwag_push::PushStats>>,
    pub(crate) connections: Arc<chinwag_http::ConnStats>,
    pub(crate) workers: Workers,
    pub(crate) store: StoreHealth,
    /// The Redis store's change feed (`None` on SQLite).
    pub(crate) feed: Option<chinwag_store_redis::FeedStatus>,
}

/// # `GET /health`
pub(crate) async fn health(State(h): State<Health>) -> (StatusCode, Json<Value>) {
    let c = &h.connections;
    let store = h.store.status();
    let workers = h.workers.snapshot();
    let mut problems: Vec<String> = Vec::new();
    if !store.is_ok() {
        let why = store.error.as_deref().unwrap_or("");
        problems.push(format!("store {}: {why}", store.status));
    }
    for w in workers.iter().filter(|w| w.state.is_failure()) {
        let (state, why) = match &w.state {
            crate::supervisor::WorkerState::Panicked(r) => ("panicked", r.as_str()),
            crate::supervisor::WorkerState::Failed(r) => ("failed", r.as_str()),
            _ => ("", ""),
        };
        problems.push(format!("worker {} {state}: {why}", w.name));
    }
    let draining = h.engine.is_draining();
    if draining {
        problems.push("draining: the node is shutting down".to_owned());
    }
    let ok = problems.is_empty();
    let body = json!({
        "status": if ok { "ok" } else if draining { "draining" } else { "failing" },
        "problems": problems,
        "version": env!("CARGO_PKG_VERSION"),
        "app_dbid": h.engine.alias().0,
        "process_os_pid": std::process::id(),
        "node": h.node.as_ref(),
        "uptime_secs": h.started.elapsed().as_secs(),
        "store": store,
        "feed": h.feed.as_ref().map(|f| json!({"subscribed": f.is_subscribed()})),
        "workers": workers,
        "open_sessions": h.engine.open_sessions(),
        "cached_chats": h.engine.cached_chats(),
        "quarantined_chats": h.engine.quarantined(),
        "push": h.push.as_ref().map(|p| p.snapshot()),
        "connections": {
            "open": c.open.load(Ordering::Relaxed),
            "refused_full": c.refused_full.load(Ordering::Relaxed),
            "refused_per_address": c.refused_per_address.load(Ordering::Relaxed),
            "timed_out": c.timed_out.load(Ordering::Relaxed),
        },
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervisor::Supervisor;
    use chinwag_core::memstore::MemoryStore;
    use chinwag_core::ports::SystemClock;
    use std::time::Duration;
    use tokio_util::sync::CancellationToken;

    #[tokio::test]
    async fn a_panicked_worker_turns_health_to_503_naming_it() -> anyhow::Result<()> {
        let settings = crate::config::validate(&crate::config::Config::default())?.engine;
        let store: Arc<dyn chinwag_core::ports::ChatStore> = Arc::new(MemoryStore::default());
        let engine = ChatEngine::open(settings, store.clone(), Arc::new(SystemClock)).await?;
        let sup = Supervisor::new(CancellationToken::new());
        sup.start("steady", |c| async move { c.cancelled().await });
        let h = Health {
            engine,
            node: Arc::new(Node::here(7, "127.0.0.1:1".into(), 0)),
            started: Instant::now(),
            push: None,
            connections: Arc::default(),
            workers: sup.workers(),
            store: StoreHealth::first(store.as_ref()).await,
            feed: None,
        };
        let (status, Json(body)) = health(State(h.clone())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "ok");
        assert_eq!(body["store"]["status"], "ok");
        assert_eq!(body["node"]["id"], 7);
        assert_eq!(body["workers"][0]["state"], "running");

        sup.start("doomed", |_| async { panic!("bad row 42") });
        let mut answer = None;
        for _ in 0..500 {
            let (status, Json(body)) = health(State(h.clone())).await;
            if status != StatusCode::OK {
                answer = Some((status, body));
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (status, body) = answer.ok_or_else(|| anyhow::anyhow!("health stayed 200"))?;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "failing");
        assert_eq!(
            body["problems"],
            serde_json::json!(["worker doomed panicked: bad row 42"])
        );
        assert_eq!(body["workers"][1]["name"], "doomed");
        assert_eq!(body["workers"][1]["state"], "panicked");
        assert_eq!(body["workers"][1]["reason"], "bad row 42");
        assert_eq!(body["workers"][0]["state"], "running", "the others run on");
        h.engine.start_draining();
        let (status, Json(body)) = health(State(h.clone())).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body["status"], "draining",
            "a stopping node leaves the balancer"
        );
        sup.stop(Duration::from_secs(5)).await;
        Ok(())
    }
}
