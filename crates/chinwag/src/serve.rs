//! `chinwag serve`: open the store (on Redis, with its change feed and the shared routing
//! state) and engine, start the
//! workers under the supervisor, compose the routers (each counted for `/metrics`), serve
//! until SIGINT/SIGTERM, then drain in order (stop accepting, finish requests, stop workers).

use crate::config::{self, Config};
use crate::health::{Health, Node, health};
use crate::metrics::{MeteredStore, Scrape, counted};
use crate::probe::StoreHealth;
use crate::supervisor::Supervisor;
use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chinwag_core::ChatEngine;
use chinwag_core::engine::{
    CatchUpWorker, LifecycleWorker, RetentionWorker, RoutingNewsWorker, RoutingWorker, TimersWorker,
};
use chinwag_core::lease::{NodeLease, NodeLeaseWorker};
use chinwag_core::ports::{ChatStore, Clock, SystemClock};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long a stopping server waits for its workers (after the connections' drain).
const WORKER_STOP: Duration = Duration::from_secs(30);

/// Runs the server until a shutdown signal.
pub(crate) async fn run(cfg: Config) -> anyhow::Result<()> {
    let validated = config::validate(&cfg)?;
    let metrics = crate::metrics::install()?;
    if cfg.agents.iter().any(config::AgentConfig::is_demo) {
        tracing::warn!(
            "the demo agent account (token {}) is active: configure [[agents]] for production",
            config::DEMO_TOKEN
        );
    }
    std::fs::create_dir_all(&cfg.server.data_dir).with_context(|| {
        format!(
            "while creating data directory {}",
            cfg.server.data_dir.display()
        )
    })?;
    let opened = crate::store::open(&cfg).await?;
    let store: Arc<dyn ChatStore> = MeteredStore::wrap(opened.store);
    let engine = ChatEngine::open_with(
        validated.engine,
        store.clone(),
        Arc::new(SystemClock),
        opened.routing,
    )
    .await
    .context("while loading sessions")?;
    crate::blobs::open(&engine, &validated.file_store).await?;
    crate::blobs::scanner(&engine, validated.file_scan.as_ref());
    // Listening from now on: other nodes' routing saves reach this node's agents.
    let routing_news = RoutingNewsWorker::new(engine.clone());
    // This run's liveness lease: its holder owns the push jobs this node queues.
    let node_lease = NodeLease::acquire(opened.leases, cfg.server.node_id, cfg.store.lease_ttl())
        .await
        .context("while taking the node lease")?;
    engine.set_push_owner(node_lease.clone());
    let key_file = cfg
        .cometd
        .key_file
        .clone()
        .unwrap_or_else(|| cfg.server.data_dir.join("cometd.key"));
    let keys = Arc::new(crate::keys::load_or_create(&key_file)?);
    let trusted = Arc::new(validated.trusted);
    let fd_limit = crate::fdlimit::raise();

    let shutdown = CancellationToken::new();
    let workers = Supervisor::new(shutdown.clone());
    let store_health = StoreHealth::first(store.as_ref()).await;
    let probe = store_health.clone();
    workers.start("store-probe", |c| probe.run(store, c));
    let renew = NodeLeaseWorker::new(node_lease.clone());
    workers.start(renew.name(), |c| renew.run(c));
    let upkeep = metrics.clone();
    workers.start("metrics-upkeep", |c| crate::metrics::upkeep(upkeep, c));
    let routing = RoutingWorker::new(engine.clone());
    workers.start(routing.name(), |c| routing.run(c));
    let retention = match cfg.server.idle_chat_eviction() {
        // Swept at least twice per idle time, so a chat leaves within 1.5 of it.
        Some(idle) => RetentionWorker::new(
            engine.clone(),
            (idle / 2).clamp(Duration::from_millis(500), Duration::from_secs(60)),
        )
        .evict_idle_after(idle),
        None => RetentionWorker::new(engine.clone(), Duration::from_secs(60)),
    };
    workers.start(retention.name(), |c| retention.run(c));
    let lifecycle = LifecycleWorker::new(engine.clone(), Duration::from_secs(5));
    workers.start(lifecycle.name(), |c| lifecycle.run(c));
    let timers = TimersWorker::new(engine.clone(), Duration::from_secs(1));
    workers.start(timers.name(), |c| timers.run(c));
    let feed_status = opened.feed.as_ref().map(|(feed, _)| feed.status());
    if let Some((feed, subscriber)) = opened.feed {
        // Other nodes' commits reach this node's bus: the catch-up worker listens from now
        // on, and the subscriber's first `Resync` covers what was committed since the
        // engine loaded its chats. The feed lives as long as its worker.
        let catch_up = CatchUpWorker::new(engine.clone(), &feed);
        workers.start(subscriber.name(), move |c| async move {
            let _feed = feed;
            subscriber.run(c).await;
        });
        workers.start(catch_up.name(), |c| catch_up.run(c));
    }
    if let Some(news) = routing_news {
        workers.start(news.name(), |c| news.run(c));
    }

    // On Redis the nodes share CometD sessions: any node serves any client.
    let joined = if cfg.store.is_redis() && cfg.cometd.enabled {
        Some(crate::cluster::join(&cfg, &key_file, node_lease.clone()).await?)
    } else {
        None
    };
    let (cluster, relay) = joined.map_or((None, None), |j| (Some(j.cluster), Some(j.relay)));
    let (bayeux, gms) = chinwag_gms_cometd::build(
        engine.customers(),
        cfg.cometd
            .bayeux(validated.all_origins.clone(), trusted.clone())?,
        validated.comet_access,
        keys.clone(),
        cfg.cometd.broadcast,
        cluster,
    );
    engine.set_presence(gms.clone());
    let mut push_stats = None;
    if engine.push_settings().enabled() {
        let presence: Arc<dyn chinwag_push::Presence> = Arc::new(CometdPresence(gms.clone()));
        let push = chinwag_push::PushWorker::new(
            engine.customers(),
            validated.push,
            Some(presence),
            keys.clone(),
        )
        .context("while starting the push client")?;
        push_stats = Some(push.stats());
        workers.start("push", |c| push.run(c));
    }
    let settings = cfg.server.http(fd_limit);
    tracing::info!(
        max_connections = settings.max_connections,
        per_ip = settings.max_per_ip,
        fd_limit,
        "connection limits"
    );
    let http = chinwag_http::Server::new(settings, trusted.clone());
    let mut app = Router::new();
    if cfg.cometd.enabled {
        let notify = chinwag_gms_cometd::NotifyWorker::new(gms, bayeux.clone());
        workers.start(notify.name(), |c| notify.run(c));
        let sweep = chinwag_bayeux::SweepWorker::new(bayeux.clone());
        workers.start(sweep.name(), |c| sweep.run(c));
        if bayeux.is_clustered() {
            let directory = chinwag_bayeux::cluster::DirectoryWorker::new(bayeux.clone());
            workers.start(directory.name(), |c| directory.run(c));
        }
        if let Some(relay) = relay {
            let server = bayeux.clone();
            workers.start(relay.name(), |c| relay.run(server, c));
        }
        app = app.merge(counted(bayeux.router(&cfg.cometd.path), "bayeux"));
    }
    let listener = tokio::net::TcpListener::bind(cfg.server.listen)
        .await
        .with_context(|| format!("while binding {}", cfg.server.listen))?;
    let node = Arc::new(Node::here(
        cfg.server.node_id,
        listener.local_addr()?.to_string(),
        SystemClock.now_ms(),
    ));
    let ops = Router::new()
        .route(
            "/health",
            axum::routing::get(health).with_state(Health {
                engine: engine.clone(),
                node,
                started: Instant::now(),
                push: push_stats.clone(),
                connections: http.stats(),
                workers: workers.workers(),
                store: store_health.clone(),
                feed: feed_status,
            }),
        )
        .route(
            "/metrics",
            axum::routing::get(crate::metrics::render).with_state(Scrape {
                handle: metrics,
                engine: engine.clone(),
                connections: http.stats(),
                push: push_stats,
                bayeux: cfg.cometd.enabled.then(|| bayeux.clone()),
                workers: workers.workers(),
                store: store_health,
            }),
        );
    let gms_rest = chinwag_gms_rest::router(chinwag_gms_rest::GmsState {
        customers: engine.customers(),
        access: Arc::new(validated.access),
        all_origins: validated.all_origins,
        trusted: trusted.clone(),
        max_body_bytes: cfg.server.max_body_bytes,
        comet_keys: Some(keys.clone()),
    });
    let mut agent_state = chinwag_agent_api::AgentState::new(engine.agents(), shutdown.clone());
    agent_state.console = Arc::new(crate::console::build(&cfg, validated.passwords, &trusted));
    let agent = chinwag_agent_api::router(agent_state);
    // The widget, the console and the demo: only their own paths (`/` is the demo's alone).
    let served = cfg.web.served(&cfg.agents);
    let app = app
        .merge(counted(gms_rest, "gms_rest"))
        .merge(counted(agent, "agent"))
        .merge(counted(ops, "ops"))
        .merge(counted(chinwag_web::router(served), "web"))
        .fallback(|| async {
            chinwag_http::requests::count_request("none", 404);
            (
                StatusCode::NOT_FOUND,
                axum::Json(serde_json::json!({"error": "not found"})),
            )
                .into_response()
        })
        .layer(tower_http::catch_panic::CatchPanicLayer::new());

    tracing::info!(listen = %listener.local_addr()?, data_dir = %cfg.server.data_dir.display(), alias = cfg.server.node_id, "chinwag serving");
    if served.demo {
        tracing::info!(
            "demo site: http://{}/ (the customer) and /console/#demo (the demo agent)",
            listener.local_addr()?
        );
    }
    let drain_engine = engine.clone();
    workers.start("shutdown-signal", |c| on_signal(drain_engine, c));
    let front = cfg.cometd.enabled.then(|| {
        chinwag_bayeux::front::Front::new(
            bayeux.clone(),
            &cfg.cometd.path,
            cfg.server.max_head_bytes,
        )
    });
    http.serve(listener, app, front, shutdown.clone()).await;
    workers.stop(WORKER_STOP).await;
    tracing::info!("stopped");
    Ok(())
}

/// `push_notification_to_active_client`: a chat watched over CometD gets no push.
struct CometdPresence(Arc<chinwag_gms_cometd::GmsCometd>);

impl chinwag_push::Presence for CometdPresence {
    fn is_live(&self, chat_id: &chinwag_core::ids::ChatId) -> bool {
        self.0.is_watched(chat_id)
    }
}

/// The `shutdown-signal` worker: on SIGINT/SIGTERM, stops the engine taking new work, queues
/// the shutdown notices, then fires the token that stops everything else.
async fn on_signal(engine: Arc<ChatEngine>, shutdown: CancellationToken) {
    tokio::select! {
        () = shutdown.cancelled() => return,
        () = wait_for_signal() => {}
    }
    tracing::info!("shutdown requested: draining");
    engine.start_draining();
    match engine.queue_shutdown_notices().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(notices = n, "shutdown notices queued for push"),
        Err(e) => tracing::error!(%e, "cannot queue the shutdown notices"),
    }
    shutdown.cancel();
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
