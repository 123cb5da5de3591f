//! An engine restarted on a store holding many open chats, for every backend (each backend's
//! test fills its store with [`fill`], may spoil one chat's events in its own way, then calls
//! [`check`]): the engine opens from the stored headers alone, holding no transcript until a
//! chat is used, yet every chat answers as before — whole transcripts for customers, the
//! assigned chat still its agent's (who acts in it), the others queued again oldest first —
//! and a chat whose events cannot be read is quarantined when first used (answered as not
//! found, counted once) while the others serve.

use chinwag_core::ids::{AgentId, EventIndex, NodeAlias, QueueName, ServiceName};
use chinwag_core::ports::{ChatStore, Clock};
use chinwag_core::roles::agents::AgentOp;
use chinwag_core::roles::customers::{ChatView, Credentials, CustomerOp, NewChat, Selection};
use chinwag_core::settings::{
    AgentAccount, AgentRole, EngineSettings, QueueSettings, ServiceLimits, ServiceSettings,
};
use chinwag_core::{ChatEngine, CoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(pub AtomicI64);

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl ManualClock {
    /// A clock at a fixed recent time.
    pub fn new() -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(1_800_000_000_000)))
    }
}

fn settings() -> EngineSettings {
    EngineSettings {
        alias: NodeAlias(1),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions: 10_000,
            max_message_length: 100,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits: ServiceLimits::default(),
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 600_000,
            max_wait_ms: None,
        }],
        agents: vec![AgentAccount {
            id: AgentId::new("a1"),
            name: "Alice".into(),
            token: "tok".into(),
            queues: vec![QueueName::new("q")],
            capacity: 2,
            role: AgentRole::Agent,
        }],
        ended_retention_ms: 3_600_000,
        push: chinwag_core::push::PushSettings::default(),
        desk: Default::default(),
    }
}

/// The service every chat here is on.
static SVC: std::sync::LazyLock<ServiceName> = std::sync::LazyLock::new(|| ServiceName::new("svc"));

fn creds(v: &ChatView) -> Credentials<'_> {
    Credentials {
        service: &SVC,
        chat_id: &v.chat_id,
        user_id: Some(&v.user_id),
        key: &v.secure_key,
        origin: None,
    }
}

fn texts(v: &ChatView) -> Vec<String> {
    v.events
        .iter()
        .filter_map(|e| e.text.as_deref().map(str::to_owned))
        .collect()
}

/// Opens an engine on `store` and creates `n` chats one millisecond apart, each with one
/// customer message (`m<i>`); the agent takes the oldest and says `hello` in it. Returns the
/// chats, oldest first.
pub async fn fill(store: Arc<dyn ChatStore>, clock: &Arc<ManualClock>, n: usize) -> Vec<ChatView> {
    let e = ChatEngine::open(settings(), store, clock.clone())
        .await
        .unwrap_or_else(|err| panic!("open: {err}"));
    let (customers, agents) = (e.customers(), e.agents());
    let mut chats = Vec::with_capacity(n);
    for i in 0..n {
        clock.0.fetch_add(1, Ordering::Relaxed);
        let req = NewChat {
            service: SVC.clone(),
            nickname: Some(format!("c{i}")),
            ..NewChat::default()
        };
        let view = customers.request_chat(req, Selection::Nothing).await;
        let view = view.unwrap_or_else(|err| panic!("request_chat: {err}"));
        let send = CustomerOp::Send {
            text: format!("m{i}"),
            message_type: None,
            attributes: None,
        };
        let sent = customers.act(creds(&view), send, Selection::Nothing).await;
        sent.unwrap_or_else(|err| panic!("send: {err}"));
        chats.push(view);
    }
    let agent = AgentId::new("a1");
    let ready = async {
        agents.login(&agent).await?;
        agents.set_ready(&agent, true).await?;
        agents.accept(&agent, &chats[0].chat_id).await?;
        let hello = AgentOp::Send {
            text: "hello".into(),
            message_type: None,
        };
        agents.act(&agent, &chats[0].chat_id, hello).await
    };
    ready.await.unwrap_or_else(|err| panic!("agent: {err}"));
    chats
}

/// Opens a new engine on `store` (holding what [`fill`] made of `chats`; the events of the
/// chat `spoiled`, if any, made unreadable) and checks the module header's promises. `held`:
/// chats the engine must hold right after opening (a shared store loads the chat with an
/// agent; a store of its own, none).
pub async fn check(
    store: Arc<dyn ChatStore>,
    clock: &Arc<ManualClock>,
    chats: &[ChatView],
    spoiled: Option<usize>,
    held: usize,
) {
    let e = ChatEngine::open(settings(), store, clock.clone())
        .await
        .unwrap_or_else(|err| panic!("reopen: {err}"));
    assert_eq!(
        e.cached_chats(),
        held,
        "no transcript held until a chat is used"
    );
    assert_eq!(e.open_sessions(), chats.len(), "every open chat counted");
    assert_eq!(e.quarantined(), 0, "every header reads");
    let (customers, agents) = (e.customers(), e.agents());
    let agent = AgentId::new("a1");
    agents
        .login(&agent)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    agents
        .set_ready(&agent, true)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    let status = agents
        .status(&agent)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        status.chats,
        [chats[0].chat_id.clone()],
        "its chat stays the agent's"
    );
    let offered: Vec<_> = status.offers.iter().map(|o| o.chat_id.clone()).collect();
    assert_eq!(
        offered,
        [chats[1].chat_id.clone()],
        "the oldest waiting chat is offered first"
    );
    let more = AgentOp::Send {
        text: "still here".into(),
        message_type: None,
    };
    let acted = agents.act(&agent, &chats[0].chat_id, more).await;
    acted.unwrap_or_else(|err| panic!("the agent acts in its chat: {err}"));
    for (i, chat) in chats.iter().enumerate() {
        let got = customers
            .read(creds(chat), Selection::From(EventIndex(1)))
            .await;
        if spoiled == Some(i) {
            assert!(matches!(got, Err(CoreError::ChatNotFound)), "{got:?}");
            continue;
        }
        let view = got.unwrap_or_else(|err| panic!("chat {i} answers: {err}"));
        let mut want = vec![format!("m{i}")];
        if i == 0 {
            want.extend(["hello".into(), "still here".into()]);
        }
        assert_eq!(texts(&view), want, "chat {i}'s whole transcript");
    }
    if let Some(i) = spoiled {
        assert_eq!(e.quarantined(), 1, "quarantined when first used");
        let again = customers.read(creds(&chats[i]), Selection::Nothing).await;
        assert!(matches!(again, Err(CoreError::ChatNotFound)), "{again:?}");
        assert_eq!(e.quarantined(), 1, "counted once");
    }
    let served = chats.len() - usize::from(spoiled.is_some());
    assert_eq!(e.cached_chats(), served, "the chats used are held now");
}
