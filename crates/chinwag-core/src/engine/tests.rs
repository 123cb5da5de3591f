//! Engine tests over the in-memory store: the whole customer/agent flow and its rules.

use super::tests_shared_store::SVC;
use super::*;
use crate::event::EventKind;
use crate::ids::SecureKey;
use crate::ids::{AgentId, EventIndex, NodeAlias, QueueName};
use crate::memstore::MemoryStore;
use crate::ports::{PushOutbox, SystemClock};
use crate::settings::{AgentAccount, AgentRole, QueueSettings};

fn settings(max_sessions: usize) -> EngineSettings {
    EngineSettings {
        alias: NodeAlias(7),
        services: vec![ServiceSettings {
            name: ServiceName::new("svc"),
            queue: QueueName::new("q"),
            max_sessions,
            max_message_length: 10,
            maintenance: false,
            inactivity: Default::default(),
            files: Default::default(),
            limits: crate::settings::ServiceLimits::default(),
        }],
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
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
        ended_retention_ms: 0,
        push: crate::push::PushSettings {
            enabled: vec![crate::push::DeviceType::CustomHttp],
            on_join: true,
            timeout_ms: None,
            shutdown_notify: true,
        },
        desk: Default::default(),
    }
}

async fn engine(max_sessions: usize) -> Result<(Arc<ChatEngine>, Arc<MemoryStore>), CoreError> {
    let store = Arc::new(MemoryStore::default());
    let e = ChatEngine::open(settings(max_sessions), store.clone(), Arc::new(SystemClock)).await?;
    Ok((e, store))
}

fn new_chat() -> NewChat {
    NewChat {
        service: "svc".into(),
        nickname: Some("Bob".into()),
        ..NewChat::default()
    }
}

#[tokio::test]
async fn a_whole_chat_keeps_indexes_strictly_increasing() -> Result<(), CoreError> {
    let (e, store) = engine(10).await?;
    let view = e
        .request_chat(new_chat(), Selection::From(EventIndex(1)))
        .await?;
    assert_eq!(view.events.len(), 1);
    assert_eq!(view.events[0].kind, EventKind::ParticipantJoined);
    assert_eq!(view.next_position, Some(2));
    let creds = Credentials {
        service: &SVC,
        chat_id: &view.chat_id,
        user_id: Some(&view.user_id),
        key: &view.secure_key,
        origin: None,
    };
    let agent = e.authenticate("tok")?;
    e.agent_login(&agent).await?;
    e.agent_set_ready(&agent, true).await?;
    assert_eq!(e.agent_status(&agent).await?.offers.len(), 1);
    e.agent_accept(&agent, &view.chat_id).await?;
    e.customer(
        creds,
        CustomerOp::Send {
            text: "hi".into(),
            message_type: None,
            attributes: None,
        },
        Selection::Nothing,
    )
    .await?;
    e.agent_act(
        &agent,
        &view.chat_id,
        AgentOp::Send {
            text: "hello".into(),
            message_type: None,
        },
    )
    .await?;
    let all = e.read(creds, None, Selection::From(EventIndex(1))).await?;
    let kinds: Vec<_> = all.events.iter().map(|ev| ev.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::ParticipantJoined,
            EventKind::ParticipantJoined,
            EventKind::Message,
            EventKind::Message
        ]
    );
    let idx: Vec<u64> = all.events.iter().map(|ev| ev.index.0).collect();
    assert_eq!(idx, [1, 2, 3, 4]);
    let done = e
        .customer(creds, CustomerOp::Disconnect, Selection::Nothing)
        .await?;
    assert!(done.ended);
    assert!(matches!(
        e.customer(
            creds,
            CustomerOp::Send {
                text: "x".into(),
                message_type: None,
                attributes: None
            },
            Selection::Nothing
        )
        .await,
        Err(CoreError::ChatEnded)
    ));
    let stored = store
        .load(&view.chat_id)
        .await?
        .ok_or(CoreError::ChatNotFound)?;
    assert_eq!(stored.events.len(), 5, "every event reached the store");
    assert!(e.agent_status(&agent).await?.chats.is_empty());
    Ok(())
}

#[tokio::test]
async fn wrong_credentials_look_like_an_unknown_chat() -> Result<(), CoreError> {
    let (e, _) = engine(10).await?;
    let v = e.request_chat(new_chat(), Selection::Nothing).await?;
    let (bad_key, bad_user, nope) = (
        SecureKey::new("0000"),
        crate::ids::UserId::new("bad"),
        ChatId::new("nope"),
    );
    for (chat, user, key) in [
        (&v.chat_id, Some(&v.user_id), &bad_key),
        (&v.chat_id, Some(&bad_user), &v.secure_key),
        (&nope, Some(&v.user_id), &v.secure_key),
    ] {
        let creds = Credentials {
            service: &SVC,
            chat_id: chat,
            user_id: user,
            key,
            origin: None,
        };
        let r = e.read(creds, None, Selection::Nothing).await;
        assert!(matches!(r, Err(CoreError::ChatNotFound)));
    }
    Ok(())
}

#[tokio::test]
async fn limits_and_validation() -> Result<(), CoreError> {
    let (e, _) = engine(1).await?;
    let long = NewChat {
        text: Some("x".repeat(11)),
        ..new_chat()
    };
    assert!(matches!(
        e.request_chat(long, Selection::Nothing).await,
        Err(CoreError::MessageTooLong { max: 10 })
    ));
    e.request_chat(new_chat(), Selection::Nothing).await?;
    assert!(matches!(
        e.request_chat(new_chat(), Selection::Nothing).await,
        Err(CoreError::ServiceFull)
    ));
    let unknown = NewChat {
        service: "other".into(),
        ..new_chat()
    };
    assert!(matches!(
        e.request_chat(unknown, Selection::Nothing).await,
        Err(CoreError::UnknownService)
    ));
    Ok(())
}

#[tokio::test]
async fn reopening_restores_sessions_and_assignments() -> Result<(), CoreError> {
    let (e, store) = engine(10).await?;
    let a = e.request_chat(new_chat(), Selection::Nothing).await?;
    let b = e.request_chat(new_chat(), Selection::Nothing).await?;
    let agent = e.authenticate("tok")?;
    e.agent_login(&agent).await?;
    e.agent_set_ready(&agent, true).await?;
    e.agent_accept(&agent, &a.chat_id).await?;
    drop(e);
    let e2 = ChatEngine::open(settings(10), store, Arc::new(SystemClock)).await?;
    assert_eq!(e2.open_sessions(), 2);
    assert_eq!(
        e2.agent_status(&agent).await?.chats,
        vec![a.chat_id.clone()]
    );
    e2.agent_login(&agent).await?;
    e2.agent_set_ready(&agent, true).await?;
    let offers: Vec<_> = e2
        .agent_status(&agent)
        .await?
        .offers
        .into_iter()
        .map(|o| o.chat_id)
        .collect();
    assert_eq!(offers, vec![b.chat_id], "the unanswered chat queued again");
    Ok(())
}

#[test]
fn the_routing_worker_sleeps_until_there_is_work() -> Result<(), CoreError> {
    use std::sync::atomic::Ordering::Relaxed;
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let rt = runtime().map_err(|_| CoreError::Unavailable)?;
    let (e, _) = rt.block_on(engine(10))?;
    let worker = RoutingWorker::new(e.clone());
    let passes = worker.passes();
    let cancel = tokio_util::sync::CancellationToken::new();
    let stop = cancel.clone();
    // Its own thread and runtime, never joined: a worker that spins fails the assertions
    // below instead of hanging the test's runtime at shutdown.
    std::thread::spawn(move || {
        if let Ok(rt) = runtime() {
            rt.block_on(worker.run(stop));
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(
        passes.load(Relaxed),
        1,
        "an idle worker makes one pass, then sleeps (it must not wake itself)"
    );
    rt.block_on(e.request_chat(new_chat(), Selection::Nothing))?;
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(
        passes.load(Relaxed),
        2,
        "one new chat wakes it exactly once"
    );
    cancel.cancel();
    Ok(())
}

#[tokio::test]
async fn pushes_are_committed_with_their_events_and_survive_a_restart() -> Result<(), CoreError> {
    let (e, store) = engine(10).await?;
    let mut feed = e.take_push_feed().ok_or(CoreError::Unavailable)?;
    assert!(e.take_push_feed().is_none(), "one consumer only");
    let mut req = new_chat();
    for (k, v) in [
        ("GCTI_Chat_PushSubscribe", "true"),
        ("GCTI_GMS_PushDeviceId", "dev-1"),
        ("GCTI_GMS_PushDeviceType", "customhttp"),
    ] {
        req.user_data.insert(k.into(), v.into());
    }
    let view = e.request_chat(req, Selection::From(EventIndex(1))).await?;
    let creds = Credentials {
        service: &SVC,
        chat_id: &view.chat_id,
        user_id: None,
        key: &view.secure_key,
        origin: None,
    };
    let agent = e.authenticate("tok")?;
    e.agent_login(&agent).await?;
    e.agent_set_ready(&agent, true).await?;
    e.agent_accept(&agent, &view.chat_id).await?;
    let send = |text: &str| CustomerOp::Send {
        text: text.into(),
        message_type: None,
        attributes: None,
    };
    // The customer's own message is not pushed (no NotifyRequestor); the agent's is.
    e.customer(creds, send("hi"), Selection::Nothing).await?;
    e.agent_act(
        &agent,
        &view.chat_id,
        AgentOp::Send {
            text: "hello".into(),
            message_type: None,
        },
    )
    .await?;
    let pending = store.pending().await?;
    let pushed: Vec<(u64, &str)> = pending
        .iter()
        .map(|j| (j.index.0, j.device.as_str()))
        .collect();
    // 2: the agent joined, 4: the agent's message.
    assert_eq!(pushed, [(2, "customhttp:dev-1"), (4, "customhttp:dev-1")]);
    assert!(pending.windows(2).all(|w| w[0].seq < w[1].seq));
    for want in &pending {
        assert_eq!(feed.try_recv().ok().as_ref(), Some(want));
    }
    // What the customer fetched is tracked (it acknowledges reliable pushes).
    e.read(creds, None, Selection::From(EventIndex(3))).await?;
    assert_eq!(e.client_position(&view.chat_id), Some(5));
    let pv = e
        .push_view(&view.chat_id, EventIndex(4))
        .await?
        .ok_or(CoreError::Unavailable)?;
    assert_eq!(pv.event.map(|ev| ev.kind), Some(EventKind::Message));
    assert_eq!(
        pv.subscription.map(|s| s.device_id),
        Some("dev-1".to_owned())
    );
    // A restarted engine continues the sequence after what is in the outbox (and after
    // the seqs the first engine reserved: a store hands each seq out once).
    let last = store.last_seq().await?;
    let e2 = ChatEngine::open(settings(10), store.clone(), Arc::new(SystemClock)).await?;
    assert_eq!(e2.queue_shutdown_notices().await?, 1);
    let after = store.pending().await?;
    let notice = after.last().ok_or(CoreError::Unavailable)?;
    assert!(notice.seq > last, "{} after {last}", notice.seq);
    assert_eq!(notice.kind, crate::push::JobKind::Shutdown);
    Ok(())
}
