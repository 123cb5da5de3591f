//! Broadcast publishes across nodes: [`RedisRelay`] PUBLISHes each one on
//! `<prefix>:bx:broadcast` as `<node>\n<channel>\n<data>`, and every node's [`RelayWorker`]
//! is subscribed to that channel and hands what other nodes published to its Bayeux server.
//!
//! A node's publishes leave in the order it made them: they queue (bounded, [`QUEUE`]) for one
//! sender task that PUBLISHes them in order, several per round trip, so the publishes of one
//! client — all made by the node owning its session — reach the other nodes in its order.
//!
//! At most once: Redis pub/sub keeps nothing, so a publish made while a node's subscription
//! is down never reaches that node's subscribers. On a Redis Cluster a plain PUBLISH reaches
//! subscribers on every node of the cluster, so the worker subscribes on any reachable seed
//! node. The subscription is rebuilt after any error, with a backoff (0.1 s doubling to 5 s).

use crate::RedisOptions;
use crate::conn::{Conn, ConnectError, Target};
use chinwag_bayeux::BayeuxServer;
use chinwag_bayeux::cluster::BroadcastRelay;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Largest relayed message accepted (bigger ones are dropped and logged).
const MAX_MESSAGE: usize = 1 << 20;

/// Publishes waiting for the sender; past it new ones are dropped (and logged).
const QUEUE: usize = 4096;

/// Most publishes sent in one round trip.
const BATCH: usize = 64;

/// Publishes this node's broadcasts for the others.
pub struct RedisRelay {
    queue: tokio::sync::mpsc::Sender<String>,
    channel: Arc<str>,
    node: Arc<str>,
}

impl std::fmt::Debug for RedisRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRelay")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// Subscribed to the other nodes' broadcasts.
#[derive(Debug)]
pub struct RelayWorker {
    target: Target,
    channel: Arc<str>,
    node: Arc<str>,
}

impl RedisRelay {
    /// Connects to `url`; `node` names this node (its own publishes are not handed back).
    pub async fn connect(
        url: &str,
        node: &str,
        options: &RedisOptions,
    ) -> Result<(Self, RelayWorker), ConnectError> {
        let target = Target::parse(url)?;
        let channel: Arc<str> = format!("{}:bx:broadcast", options.prefix).into();
        let node: Arc<str> = node.into();
        let (queue, rx) = tokio::sync::mpsc::channel(QUEUE);
        let conn = Conn::open(&target, options).await?;
        tokio::spawn(send_in_order(conn, channel.clone(), options.deadline, rx));
        let relay = Self {
            queue,
            channel: channel.clone(),
            node: node.clone(),
        };
        Ok((
            relay,
            RelayWorker {
                target,
                channel,
                node,
            },
        ))
    }
}

impl BroadcastRelay for RedisRelay {
    fn publish(&self, channel: &str, data: &str) {
        let payload = format!("{}\n{channel}\n{data}", self.node);
        if self.queue.try_send(payload).is_err() {
            tracing::warn!(channel = %self.channel, "broadcast relay queue full: not relayed to the other nodes");
        }
    }
}

/// The sender: PUBLISHes what is queued, in order, up to [`BATCH`] per round trip, until
/// the relay is dropped. A failed batch is logged and dropped (at most once).
async fn send_in_order(
    conn: Conn,
    target: Arc<str>,
    deadline: Duration,
    mut rx: tokio::sync::mpsc::Receiver<String>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for payload in batch.drain(..) {
            pipe.cmd("PUBLISH").arg(&*target).arg(payload).ignore();
        }
        let sent = conn
            .run(deadline, |mut c| async move {
                pipe.query_async::<()>(&mut c).await
            })
            .await;
        if let Err(e) = sent {
            tracing::warn!(%e, "broadcasts not relayed to the other nodes");
        }
    }
}

/// A relayed publish: `(node, channel, data)`.
fn parse(payload: &str) -> Option<(&str, &str, &str)> {
    let (node, rest) = payload.split_once('\n')?;
    let (channel, data) = rest.split_once('\n')?;
    Some((node, channel, data))
}

impl RelayWorker {
    /// Worker name for logs.
    pub fn name(&self) -> &'static str {
        "bayeux-relay"
    }

    /// Hands other nodes' broadcasts to `server` until cancelled.
    pub async fn run(self, server: BayeuxServer, cancel: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        let servers = self.target.servers();
        let mut next = 0;
        loop {
            let url = &servers[next % servers.len()];
            next += 1;
            tokio::select! {
                () = cancel.cancelled() => return,
                r = self.subscribed(url, &server) => match r {
                    Ok(()) => backoff = Duration::from_millis(100),
                    Err(e) => tracing::warn!(%e, "broadcast relay subscription lost"),
                },
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    /// One subscription, until it fails.
    async fn subscribed(&self, url: &str, server: &BayeuxServer) -> redis::RedisResult<()> {
        let client = redis::Client::open(url)?;
        let mut pubsub = tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub())
            .await
            .map_err(|_| {
                redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
            })??;
        pubsub.subscribe(&*self.channel).await?;
        tracing::info!(channel = %self.channel, "broadcast relay subscribed");
        let mut messages = pubsub.on_message();
        while let Some(msg) = messages.next().await {
            let bytes = msg.get_payload_bytes();
            if bytes.len() > MAX_MESSAGE {
                tracing::warn!(bytes = bytes.len(), "relayed broadcast too large: dropped");
                continue;
            }
            let Ok(text) = std::str::from_utf8(bytes) else {
                continue;
            };
            match parse(text) {
                Some((node, channel, data)) if node != &*self.node => {
                    server.publish_from_peer(channel, data);
                }
                Some(_) => {}
                None => tracing::debug!("malformed relayed broadcast ignored"),
            }
        }
        Err(redis::RedisError::from(std::io::Error::from(
            std::io::ErrorKind::ConnectionAborted,
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn relayed_messages_parse() {
        assert_eq!(
            super::parse("n1\n/chat/a\n{\"x\":\"a\\nb\"}"),
            Some(("n1", "/chat/a", "{\"x\":\"a\\nb\"}"))
        );
        assert_eq!(super::parse("n1/chat"), None);
    }
}
