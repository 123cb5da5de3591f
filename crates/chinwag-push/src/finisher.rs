//! Removes delivered (or given-up) jobs from the outbox in batches: attempts report their
//! job as done, and one task deletes whatever has gathered in one store write, so the
//! store sees one write per batch instead of one per push. A job reported done but not yet
//! deleted when the process dies is delivered again after the restart (at least once).

use chinwag_core::ports::PushOutbox;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Most jobs deleted in one write.
const MAX_BATCH: usize = 4096;

enum Msg {
    Done(u64),
    Flush(oneshot::Sender<()>),
}

/// The handle attempts report to.
pub(crate) struct Finisher {
    tx: mpsc::UnboundedSender<Msg>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Msg>>>,
}

impl Finisher {
    pub(crate) fn new() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }

    /// Starts the deleting task (once).
    pub(crate) fn start(&self, outbox: Arc<dyn PushOutbox>) {
        let rx = self
            .rx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(rx) = rx {
            tokio::spawn(run(outbox, rx));
        }
    }

    /// `seqs` are finished.
    pub(crate) fn done(&self, seqs: &[u64]) {
        for s in seqs {
            let _ = self.tx.send(Msg::Done(*s));
        }
    }

    /// Waits until everything reported so far is deleted.
    pub(crate) async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

async fn run(outbox: Arc<dyn PushOutbox>, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let (mut batch, mut waiters) = (Vec::new(), Vec::new());
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(m) = next.take() {
            match m {
                Msg::Done(s) => batch.push(s),
                Msg::Flush(w) => waiters.push(w),
            }
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            if let Err(e) = outbox.finish(&batch).await {
                tracing::error!(%e, jobs = batch.len(), "push outbox: cannot finish jobs");
            }
            batch.clear();
        }
        for w in waiters.drain(..) {
            let _ = w.send(());
        }
    }
}
