//! What the file-transfer tests share: bodies of known content (streams that panic if read
//! past their end, or read at all), an engine on the in-memory stores with a manual clock,
//! a logged-in ready agent and a memory blob store, and the calls a customer makes.

use super::limits_tests::ManualClock;
use super::tests_shared_store::{creds_of, open_chat, settings};
use super::*;
use crate::files::{FileError, FileSettings};
use crate::ids::{AgentId, BlobId, QueueName};
use crate::memstore::{MemoryBlobs, MemoryStore};
use crate::ports::{BlobStore, ByteStream};
use crate::roles::files::FileBody;
use crate::roles::{Agents, Customers};
use crate::settings::{AgentAccount, AgentRole};
use bytes::Bytes;
use std::sync::atomic::AtomicI64;

pub(super) const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
pub(super) const ELF: &[u8] = &[0x7F, b'E', b'L', b'F', 2, 1, 1, 0];
pub(super) const RETENTION: i64 = 60_000;

/// A body of `len` bytes starting with `head` (padded with `x`), in chunks of 1000.
pub(super) fn body(head: &[u8], len: usize) -> ByteStream<'static> {
    let mut all = head.to_vec();
    all.resize(len.max(head.len()), b'x');
    let chunks: Vec<std::io::Result<Bytes>> = all
        .chunks(1000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(Iter(chunks.into_iter(), false))
}

/// A stream of the chunks of an iterator that, like many real bodies, panics if polled
/// again after it ended.
pub(super) struct Iter<I>(I, bool);
impl<I: Iterator<Item = std::io::Result<Bytes>> + Unpin> futures_core::Stream for Iter<I> {
    type Item = std::io::Result<Bytes>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        assert!(!self.1, "a body was polled after its end");
        let next = self.0.next();
        self.1 = next.is_none();
        std::task::Poll::Ready(next)
    }
}

/// A body that fails the test if it is ever read.
pub(super) fn untouchable() -> ByteStream<'static> {
    Box::pin(Iter(
        std::iter::from_fn(|| panic!("the body was read")),
        false,
    ))
}

pub(super) fn file(name: &str, head: &[u8], len: usize) -> FileBody<'static> {
    FileBody {
        name: name.into(),
        length: None,
        body: body(head, len),
    }
}

pub(super) struct Rig {
    pub(super) engine: Arc<ChatEngine>,
    pub(super) blobs: Arc<MemoryBlobs>,
    pub(super) clock: Arc<ManualClock>,
    pub(super) customers: Customers,
    pub(super) agents: Agents,
    pub(super) agent: AgentId,
}

pub(super) async fn rig(rules: FileSettings) -> Result<Rig, CoreError> {
    let mut s = settings(1);
    s.ended_retention_ms = RETENTION;
    s.services[0].limits.abandon_after_ms = None;
    s.services[0].files = rules;
    s.agents = vec![AgentAccount {
        id: AgentId::new("a1"),
        name: "Alice".into(),
        token: "tok".into(),
        queues: vec![QueueName::new("q")],
        capacity: 5,
        role: AgentRole::Agent,
    }];
    let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
    let engine = ChatEngine::open(s, Arc::new(MemoryStore::default()), clock.clone()).await?;
    let blobs = Arc::new(MemoryBlobs::new(64 << 20));
    engine.set_blobs(blobs.clone());
    let agents = engine.agents();
    let agent = agents.sign_in("tok")?;
    agents.login(&agent).await?;
    agents.set_ready(&agent, true).await?;
    Ok(Rig {
        customers: engine.customers(),
        agents,
        agent,
        engine,
        blobs,
        clock,
    })
}

pub(super) fn rules() -> FileSettings {
    FileSettings {
        max_file_size: 2_000,
        max_files: 3,
        max_total_size: 5_000,
        file_types: "png:txt".into(),
        download_attempts: 2,
        need_agent: true,
        delete_gives_slot: true,
        enabled: true,
    }
}

impl Rig {
    /// A chat the agent accepted.
    pub(super) async fn chat(&self) -> Result<ChatView, CoreError> {
        let view = open_chat(&self.engine, Selection::Nothing).await?;
        self.agents.accept(&self.agent, &view.chat_id).await?;
        Ok(view)
    }

    /// The customer uploads and announces a file: its id.
    pub(super) async fn put(&self, chat: &ChatView, f: FileBody<'_>) -> Result<BlobId, CoreError> {
        let staged = self.customers.upload(creds_of(chat), f).await?;
        let (info, _) = self
            .customers
            .announce(
                creds_of(chat),
                staged,
                Some("invoice".into()),
                Default::default(),
            )
            .await?;
        Ok(info.id)
    }

    /// How many blobs the store holds for `chat`.
    pub(super) async fn stored(&self, chat: &ChatView) -> Result<usize, CoreError> {
        let list = self.blobs.list(&chat.chat_id).await;
        list.map(|l| l.len()).map_err(|_| CoreError::Random)
    }

    pub(super) async fn used(&self, chat: &ChatView) -> Result<Vec<String>, CoreError> {
        let (data, _) = self.customers.file_limits(creds_of(chat)).await?;
        Ok([
            "used-upload-max-files",
            "used-upload-max-total-size",
            "used-download-attempts",
        ]
        .map(|k| data.get(k).cloned().unwrap_or_default())
        .to_vec())
    }
}

pub(super) fn file_err(r: Result<impl std::fmt::Debug, CoreError>) -> FileError {
    match r {
        Err(CoreError::File(f)) => f,
        other => panic!("expected a file error, got {other:?}"),
    }
}
