//! One session of the feed worker: open a link under a deadline, send `Resync`, then forward
//! announcements until the link breaks, a probe goes unanswered, or the worker stops.

use super::link::{self, Delivery, Inbox, Signals};
use super::wire::{self, Message, RoutingMessage};
use super::{FeedWorker, publish_command, stopped};
use chinwag_core::ports::{FeedEvent, RoutingNews};
use futures_util::future::{BoxFuture, OptionFuture};
use futures_util::{StreamExt, stream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// Probe publishes sent at once.
const PARALLEL: usize = 16;
/// The shortest probe period honoured.
const MIN_PROBE_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// How a session ended.
pub(super) enum Ended {
    /// The worker was told to stop.
    Stop,
    /// The subscription was lost (or never made), for this reason.
    Lost(String),
}

/// The probe in flight: which partitions' channels have not echoed it yet.
struct Probe {
    n: u64,
    waiting: Vec<bool>,
    left: usize,
}

impl Probe {
    fn new(partitions: usize) -> Self {
        Self {
            n: 0,
            waiting: vec![false; partitions],
            left: 0,
        }
    }

    /// Starts the next probe; returns its number.
    fn next(&mut self) -> u64 {
        self.n += 1;
        self.waiting.fill(true);
        self.left = self.waiting.len();
        self.n
    }

    fn echoed(&mut self, partition: usize, n: u64) {
        if n == self.n
            && let Some(w) = self.waiting.get_mut(partition)
            && *w
        {
            *w = false;
            self.left -= 1;
        }
    }
}

impl FeedWorker {
    pub(super) async fn session(&mut self, cancel: &CancellationToken) -> Ended {
        let (tx, mut rx) = mpsc::channel(self.options.inbox.max(1));
        let signals = Arc::new(Signals::default());
        let inbox = Inbox {
            tx,
            signals: signals.clone(),
        };
        // Connecting plus one subscription round per few partitions.
        let within = self.store.deadline * 3;
        let opening = tokio::time::timeout(
            within,
            link::open(&self.target, &self.store, &self.channels, inbox),
        );
        let link = tokio::select! {
            () = stopped(cancel, &self.stop) => return Ended::Stop,
            opened = opening => match opened {
                Ok(Ok(link)) => link,
                Ok(Err(e)) => return Ended::Lost(format!("cannot subscribe: {e}")),
                Err(_) => return Ended::Lost(format!("subscribing took over {within:?}")),
            },
        };
        if signals.broken.load(Ordering::Acquire) {
            return Ended::Lost("disconnected while subscribing".into());
        }
        self.subscribed.store(true, Ordering::Release);
        if std::mem::take(&mut self.failing) {
            tracing::info!("change feed subscribed again");
        }
        // Commits and routing saves made while not subscribed were not heard.
        self.resync();
        let ended = self.forward(cancel, &mut rx, &signals).await;
        self.subscribed.store(false, Ordering::Release);
        drop(link);
        ended
    }

    async fn forward(
        &mut self,
        cancel: &CancellationToken,
        rx: &mut mpsc::Receiver<Delivery>,
        signals: &Signals,
    ) -> Ended {
        let every = self.options.probe_every.max(MIN_PROBE_EVERY);
        let mut tick = tokio::time::interval_at(Instant::now() + every, every);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut probe = Probe::new(self.channels.len());
        let mut sending: Option<BoxFuture<'static, ()>> = None;
        loop {
            tokio::select! {
                () = stopped(cancel, &self.stop) => return Ended::Stop,
                () = signals.wake.notified() => {
                    if signals.broken.load(Ordering::Acquire) {
                        return Ended::Lost("disconnected, or unsubscribed by the server".into());
                    }
                    if signals.lost.swap(false, Ordering::AcqRel) {
                        tracing::warn!("change feed inbox full: announcements dropped, resyncing");
                        self.resync();
                    }
                }
                delivery = rx.recv() => match delivery {
                    Some(d) => self.deliver(&d, &mut probe),
                    None => return Ended::Lost("the connection closed".into()),
                },
                _ = tick.tick() => {
                    if probe.left > 0 {
                        return Ended::Lost(format!(
                            "{} channel(s) did not echo a probe within {every:?}",
                            probe.left
                        ));
                    }
                    sending = Some(self.send_probe(probe.next()));
                }
                _ = OptionFuture::from(sending.as_mut()), if sending.is_some() => {
                    sending = None;
                }
            }
        }
    }

    fn deliver(&self, d: &Delivery, probe: &mut Probe) {
        let Some(&p) = self.partitions.get(&d.channel) else {
            return;
        };
        if p == self.layout.partitions() {
            return self.deliver_routing(&d.payload, p, probe);
        }
        match wire::parse(&d.payload) {
            Some(Message::Changed { chat_id, rev }) if self.layout.partition_of(&chat_id) == p => {
                let _ = self.tx.send(FeedEvent::Changed { chat_id, rev });
            }
            Some(Message::Probe { feed, n }) if feed == self.id => probe.echoed(p, n),
            Some(Message::Probe { .. }) => {} // another node's
            _ => tracing::debug!(
                payload = %String::from_utf8_lossy(&d.payload),
                "change feed: ignored a malformed message"
            ),
        }
    }

    fn deliver_routing(&self, payload: &[u8], p: usize, probe: &mut Probe) {
        match wire::parse_routing(payload) {
            Some(RoutingMessage::Saved { version, news }) => {
                let news = news.into();
                let _ = self.routing.send(RoutingNews::Saved { version, news });
            }
            Some(RoutingMessage::Probe { feed, n }) if feed == self.id => probe.echoed(p, n),
            Some(RoutingMessage::Probe { .. }) => {}
            None => tracing::debug!(
                bytes = payload.len(),
                "change feed: ignored a malformed routing message"
            ),
        }
    }

    /// Publishes probe `n` on every channel through the store's connection (so through the
    /// slot owners the store itself writes to). A publish that fails is not retried: its
    /// probe is simply not echoed.
    fn send_probe(&self, n: u64) -> BoxFuture<'static, ()> {
        let (conn, channels) = (self.conn.clone(), self.channels.clone());
        let (cmd, deadline) = (publish_command(conn.is_cluster()), self.store.deadline);
        let payload = wire::probe(self.id, n);
        Box::pin(async move {
            stream::iter(channels.to_vec())
                .for_each_concurrent(PARALLEL, |channel| {
                    let (conn, payload) = (conn.clone(), payload.clone());
                    async move {
                        let publish = redis::cmd(cmd).arg(&channel).arg(payload).clone();
                        let sent = conn
                            .run(deadline, |mut c| async move {
                                publish.query_async::<()>(&mut c).await
                            })
                            .await;
                        if let Err(e) = sent {
                            tracing::debug!(%e, channel = %channel, "change feed probe not published");
                        }
                    }
                })
                .await;
        })
    }
}
