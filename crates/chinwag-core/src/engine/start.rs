//! Opening the engine from the stored chats' headers alone (no transcript is read): routing
//! rebuilt, open chats counted, every live chat entered out of memory (`idle.rs`), missing
//! abandon timers restored, unreadable headers quarantined.

use super::{ChatEngine, ServiceState, idle, push, router};
use crate::bus::LocalBus;
use crate::error::CoreError;
use crate::ids::{ChatId, ServiceName};
use crate::ports::{ChatStore, Clock, RoutingStore};
use crate::settings::EngineSettings;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::Notify;

impl ChatEngine {
    /// Opens the engine from the stored chats' headers alone (no transcript is read): routing
    /// is rebuilt (chats with an agent stay with that agent; the others queue again in
    /// creation order), open chats are counted per service and get their abandon timers, and
    /// every live chat is remembered as out of memory (`idle.rs`), read back whole when first
    /// used. A chat whose header the store cannot read is quarantined: logged, counted, not
    /// served; one whose events cannot be read is quarantined when first loaded
    /// ([`Self::quarantine`]).
    pub async fn open(
        settings: EngineSettings,
        store: Arc<dyn ChatStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, CoreError> {
        Self::open_with(settings, store, clock, None).await
    }

    /// [`Self::open`], with routing shared through `routing` when given (several nodes on one
    /// store): the routing state rebuilt from the stored chats is saved there only if nothing
    /// was ever saved (the first node wins); otherwise the engine takes the stored state, so
    /// a node starting later does not queue (and offer) again what is already routed.
    ///
    /// On a shared store the open chats with an agent present are loaded whole once open:
    /// another node's commits reach this node's bus only for the chats it holds, and their
    /// agents' event streams may be connected here (they are few: agents' capacity bounds
    /// them).
    pub async fn open_with(
        settings: EngineSettings,
        store: Arc<dyn ChatStore>,
        clock: Arc<dyn Clock>,
        routing: Option<Arc<dyn RoutingStore>>,
    ) -> Result<Arc<Self>, CoreError> {
        let now = clock.now_ms();
        let services: HashMap<ServiceName, ServiceState> = settings
            .services
            .iter()
            .map(|s| (s.name.clone(), ServiceState::new(s.clone())))
            .collect();
        let shared = store.shared();
        let mut built = router::Rebuild::new(&settings);
        let mut evicted = HashMap::new();
        let (mut open, mut followed, mut unreadable) = (0, Vec::new(), Vec::new());
        let mut take = |batch: crate::ports::Headers| {
            unreadable.extend(batch.quarantined);
            for h in batch.headers {
                let record = h.record;
                let chat_id = record.chat_id.clone();
                if let Some(t) = record.ended_ms {
                    evicted.insert(chat_id, idle::Evicted::Ended(t));
                    continue;
                }
                let index = idle::service_index(&settings, &record.service);
                let svc = services.get(&record.service);
                if let Some(svc) = svc {
                    svc.open.fetch_add(1, Ordering::Relaxed);
                    built.add(usize::from(index), &record);
                    open += 1;
                }
                if shared && !record.present_accounts().is_empty() {
                    followed.push(chat_id.clone());
                }
                if svc.is_some() || !shared {
                    let subscribed = settings.push.subscription(&record).is_some();
                    let idle = idle::Idle::at_start(index, svc.is_some(), subscribed, now);
                    evicted.insert(chat_id, idle::Evicted::Open(idle));
                }
            }
        };
        let cutoff = now.saturating_sub(settings.ended_retention_ms);
        store.load_headers(cutoff, &mut take).await?;
        for (chat, why) in &unreadable {
            tracing::error!(chat = %chat.as_str(), %why, "unreadable chat quarantined: left in the store, not served");
        }
        let quarantined: std::collections::HashSet<ChatId> =
            unreadable.into_iter().map(|(id, _)| id).collect();
        let router = built.finish(&settings);
        let router = router::Router::open(&settings, router, routing, store.clone()).await?;
        let settings_alias = settings.alias.0;
        tracing::info!(
            chats = evicted.len(),
            open,
            quarantined = quarantined.len(),
            shared_routing = matches!(router, router::Router::Shared(_)),
            "chat engine opened from the stored headers"
        );
        let engine = Arc::new(Self {
            settings,
            services,
            store,
            clock,
            bus: LocalBus::new(4096),
            sessions: RwLock::new(HashMap::new()),
            router,
            router_wake: Notify::new(),
            draining: AtomicBool::new(false),
            pushes: push::Feed::new(),
            quarantined: Mutex::new(quarantined),
            evicted: Mutex::new(evicted),
            presence: std::sync::OnceLock::new(),
            blobs: std::sync::OnceLock::new(),
            scanner: std::sync::OnceLock::new(),
            timer_holder: crate::lease::Holder::for_run(settings_alias),
        });
        // Chats stored before timers existed (or whose timer was lost) get one.
        engine.restore_timers().await?;
        for chat in followed {
            if let Err(err) = engine.slot_or_load(&chat).await {
                tracing::warn!(chat = %chat.as_str(), %err, "cannot load a chat with an agent; loaded when next asked for");
            }
        }
        Ok(engine)
    }
}
