//! `chinwag serve`: open the store and engine, start the workers, compose the routers, serve
//! until SIGINT/SIGTERM, then drain in order (stop accepting, finish requests, stop workers).

use crate::config::{self, Config};
use crate::health::{Health, health};
use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chinwag_core::ChatEngine;
use chinwag_core::engine::{LifecycleWorker, RetentionWorker, RoutingWorker};
use chinwag_core::ports::SystemClock;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Runs the server until a shutdown signal.
pub(crate) async fn run(cfg: Config) -> anyhow::Result<()> {
    let validated = config::validate(&cfg)?;
    if cfg.agents.iter().any(|a| a.token == config::DEMO_TOKEN) {
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
    let store = crate::store::open(&cfg).await?;
    let engine = ChatEngine::open(validated.engine, store, Arc::new(SystemClock))
        .await
        .context("while loading sessions")?;
    let key_file = cfg
        .cometd
        .key_file
        .clone()
        .unwrap_or_else(|| cfg.server.data_dir.join("cometd.key"));
    let keys = Arc::new(crate::keys::load_or_create(&key_file)?);
    let trusted = Arc::new(validated.trusted);
    let fd_limit = crate::fdlimit::raise();

    let shutdown = CancellationToken::new();
    let mut workers = JoinSet::new();
    let routing = RoutingWorker::new(engine.clone());
    tracing::info!(worker = routing.name(), "starting worker");
    workers.spawn(routing.run(shutdown.clone()));
    let retention = RetentionWorker::new(engine.clone(), Duration::from_secs(60));
    tracing::info!(worker = retention.name(), "starting worker");
    workers.spawn(retention.run(shutdown.clone()));
    let lifecycle = LifecycleWorker::new(engine.clone(), Duration::from_secs(5));
    tracing::info!(worker = lifecycle.name(), "starting worker");
    workers.spawn(lifecycle.run(shutdown.clone()));

    let (bayeux, gms) = chinwag_gms_cometd::build(
        engine.clone(),
        cfg.cometd
            .bayeux(validated.all_origins.clone(), trusted.clone())?,
        validated.comet_access,
        keys.clone(),
        cfg.cometd.broadcast,
    );
    engine.set_presence(gms.clone());
    let mut push_stats = None;
    if engine.push_settings().enabled() {
        let presence: Arc<dyn chinwag_push::Presence> = Arc::new(CometdPresence(gms.clone()));
        let push = chinwag_push::PushWorker::new(
            engine.clone(),
            validated.push,
            Some(presence),
            keys.clone(),
        )
        .context("while starting the push client")?;
        push_stats = Some(push.stats());
        tracing::info!(worker = "push", "starting worker");
        workers.spawn(push.run(shutdown.clone()));
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
        tracing::info!(worker = notify.name(), "starting worker");
        workers.spawn(notify.run(shutdown.clone()));
        let sweep = chinwag_bayeux::SweepWorker::new(bayeux.clone());
        tracing::info!(worker = sweep.name(), "starting worker");
        workers.spawn(sweep.run(shutdown.clone()));
        app = app.merge(bayeux.router(&cfg.cometd.path));
    }
    let app = app
        .merge(chinwag_gms_rest::router(chinwag_gms_rest::GmsState {
            engine: engine.clone(),
            access: Arc::new(validated.access),
            all_origins: validated.all_origins,
            trusted: trusted.clone(),
            max_body_bytes: cfg.server.max_body_bytes,
        }))
        .merge(chinwag_agent_api::router(
            chinwag_agent_api::AgentState::new(engine.clone(), shutdown.clone()),
        ))
        .route(
            "/health",
            axum::routing::get(health).with_state(Health {
                engine: engine.clone(),
                started: Instant::now(),
                push: push_stats,
                connections: http.stats(),
            }),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(serde_json::json!({"error": "not found"})),
            )
                .into_response()
        })
        .layer(tower_http::catch_panic::CatchPanicLayer::new());

    let listener = tokio::net::TcpListener::bind(cfg.server.listen)
        .await
        .with_context(|| format!("while binding {}", cfg.server.listen))?;
    tracing::info!(listen = %listener.local_addr()?, data_dir = %cfg.server.data_dir.display(), alias = cfg.server.node_id, "chinwag serving");
    let signal = shutdown.clone();
    let drain_engine = engine.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested: draining");
        drain_engine.start_draining();
        match drain_engine.queue_shutdown_notices().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(notices = n, "shutdown notices queued for push"),
            Err(e) => tracing::error!(%e, "cannot queue the shutdown notices"),
        }
        signal.cancel();
    });
    let front = cfg.cometd.enabled.then(|| {
        chinwag_bayeux::front::Front::new(
            bayeux.clone(),
            &cfg.cometd.path,
            cfg.server.max_head_bytes,
        )
    });
    http.serve(listener, app, front, shutdown.clone()).await;
    shutdown.cancel();
    while workers.join_next().await.is_some() {}
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
