//! `GET /metrics` in the Prometheus text format, with the `metrics` facade.
//!
//! The recorder is installed here, in the binary, once; library crates only call the macros
//! (no-ops until then). Histograms get explicit buckets, so they render as real histograms
//! that add up across nodes (without buckets they would be summaries, which do not).
//! Values the process already keeps as plain counters (connections, pushes, sessions,
//! workers, the store probe) are copied into the registry when scraped, which costs the hot
//! paths nothing. `metrics-upkeep` is the named worker running the recorder's upkeep.
//!
//! Labels take fixed values only (adapter, status class, kind, op, transport, worker): never
//! a chat, a client or an address, so the number of series is bounded.

mod http;
mod store;

pub(crate) use http::counted;
pub(crate) use store::MeteredStore;

use crate::probe::StoreHealth;
use crate::supervisor::Workers;
use anyhow::Context;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use chinwag_core::ChatEngine;
use metrics::{describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Bucket bounds of every histogram, in seconds: 50 µs (an answer from the SQLite writer's
/// cache) to 10 s (a store in trouble).
const BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0,
];

/// How often the upkeep runs.
const UPKEEP: Duration = Duration::from_secs(5);

/// Installs the process-wide recorder and describes every metric.
pub(crate) fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .context("while setting the histogram buckets")?
        .install_recorder()
        .context("while installing the metrics recorder")?;
    describe();
    Ok(handle)
}

fn describe() {
    describe_gauge!("chinwag_open_sessions", "Open chats held by this node.");
    describe_gauge!(
        "chinwag_quarantined_chats",
        "Chats found unreadable at start and not served."
    );
    describe_counter!("chinwag_chats_created_total", "Chats created.");
    describe_counter!("chinwag_chats_ended_total", "Chats ended, for any reason.");
    describe_counter!(
        "chinwag_transcript_events_total",
        "Transcript events committed to the store, by kind."
    );
    describe_gauge!("chinwag_connections_open", "HTTP connections open.");
    describe_counter!(
        "chinwag_connections_refused_total",
        "Connections refused at accept, by reason (full, per_address)."
    );
    describe_counter!(
        "chinwag_connections_timed_out_total",
        "Connections closed for idling or for sending a request too slowly."
    );
    describe_gauge!(
        "chinwag_bayeux_sessions",
        "CometD sessions by the transport of their latest connect."
    );
    describe_counter!(
        "chinwag_bayeux_takeovers_total",
        "CometD sessions this node took over from a dead node (clusters on Redis)."
    );
    describe_gauge!("chinwag_agent_websockets", "Agent event streams open.");
    describe_counter!(
        "chinwag_pushes_total",
        "Push notification outcomes (sent, failed, retried, dropped, resent, acknowledged, skipped)."
    );
    describe_histogram!(
        "chinwag_store_operation_duration_seconds",
        metrics::Unit::Seconds,
        "Store call latency, by operation."
    );
    describe_counter!(
        "chinwag_store_errors_total",
        "Store calls that failed, by operation."
    );
    describe_counter!(
        "chinwag_store_conflicts_total",
        "Commits refused because another writer committed to the chat first."
    );
    describe_gauge!("chinwag_store_up", "1 when the last store ping succeeded.");
    describe_gauge!(
        "chinwag_store_ping_seconds",
        metrics::Unit::Seconds,
        "Latency of the last store ping."
    );
    describe_counter!(
        "chinwag_http_requests_total",
        "HTTP requests answered, by adapter and status class."
    );
    describe_counter!(
        "chinwag_rate_limited_total",
        "Requests refused by a rate limit, by limit."
    );
    describe_gauge!("chinwag_worker_up", "1 while the background worker runs.");
}

/// What `/metrics` reads when scraped, besides the registry.
#[derive(Clone)]
pub(crate) struct Scrape {
    pub(crate) handle: PrometheusHandle,
    pub(crate) engine: Arc<ChatEngine>,
    pub(crate) connections: Arc<chinwag_http::ConnStats>,
    pub(crate) push: Option<Arc<chinwag_push::PushStats>>,
    pub(crate) bayeux: Option<chinwag_bayeux::BayeuxServer>,
    pub(crate) workers: Workers,
    pub(crate) store: StoreHealth,
}

impl Scrape {
    /// Copies the process's own counters into the registry.
    fn refresh(&self) {
        let n = |v: usize| v as f64;
        gauge!("chinwag_open_sessions").set(n(self.engine.open_sessions()));
        gauge!("chinwag_quarantined_chats").set(n(self.engine.quarantined()));
        let c = &self.connections;
        gauge!("chinwag_connections_open").set(n(c.open.load(Ordering::Relaxed)));
        let total =
            |name: &'static str, label: &'static str, value: &'static str, v: &AtomicU64| {
                metrics::counter!(name, label => value).absolute(v.load(Ordering::Relaxed));
            };
        total(
            "chinwag_connections_refused_total",
            "reason",
            "full",
            &c.refused_full,
        );
        total(
            "chinwag_connections_refused_total",
            "reason",
            "per_address",
            &c.refused_per_address,
        );
        metrics::counter!("chinwag_connections_timed_out_total")
            .absolute(c.timed_out.load(Ordering::Relaxed));
        if let Some(b) = &self.bayeux {
            for (t, count) in b.sessions_by_transport() {
                gauge!("chinwag_bayeux_sessions", "transport" => t.as_str()).set(n(count));
            }
        }
        if let Some(p) = &self.push {
            let outcomes = [
                ("sent", &p.sent),
                ("failed", &p.failed),
                ("retried", &p.retried),
                ("dropped", &p.dropped),
                ("resent", &p.resent),
                ("acknowledged", &p.acknowledged),
                ("skipped", &p.skipped),
            ];
            for (outcome, v) in outcomes {
                total("chinwag_pushes_total", "outcome", outcome, v);
            }
        }
        for w in self.workers.snapshot() {
            let up = if w.state == crate::supervisor::WorkerState::Running {
                1.0
            } else {
                0.0
            };
            gauge!("chinwag_worker_up", "worker" => w.name).set(up);
        }
        let store = self.store.status();
        gauge!("chinwag_store_up").set(if store.is_ok() { 1.0 } else { 0.0 });
        gauge!("chinwag_store_ping_seconds").set(store.latency_ms / 1000.0);
    }
}

/// # `GET /metrics`
pub(crate) async fn render(State(s): State<Scrape>) -> impl IntoResponse {
    s.refresh();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.handle.render(),
    )
}

/// The `metrics-upkeep` worker: drains histogram samples into their buckets every few
/// seconds, so memory stays bounded between scrapes.
pub(crate) async fn upkeep(handle: PrometheusHandle, cancel: CancellationToken) {
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(UPKEEP) => handle.run_upkeep(),
        }
    }
}
