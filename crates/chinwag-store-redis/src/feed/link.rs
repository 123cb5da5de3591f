//! One subscription session: a dedicated RESP3 connection (a single server) or cluster client
//! (a cluster) subscribed to every partition's channel, whose pushes land in a bounded inbox.
//!
//! On a single server the channels are plain (`SUBSCRIBE`, all at once); on a cluster they
//! are sharded (`SSUBSCRIBE`, one channel per call, which the cluster client sends to the
//! primary owning the channel's slot). A session is never repaired in place: a disconnection
//! or an unsubscribe the feed did not ask for (a failover or a slot migration moves the
//! channel: the server sends `sunsubscribe`) marks it broken, and the feed builds a new one.

use super::wire::MAX_ROUTING_PAYLOAD;
use crate::RedisOptions;
use crate::conn::Target;
use futures_util::{StreamExt, TryStreamExt, stream};
use redis::aio::{AsyncPushSender, MultiplexedConnection, SendError};
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, ProtocolVersion, PushInfo, PushKind, RedisResult, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Notify, mpsc};

/// Sharded subscriptions sent at once on a cluster.
const PARALLEL: usize = 16;

/// A message as it arrived.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) channel: Vec<u8>,
    pub(crate) payload: Vec<u8>,
}

/// What the connection reports besides messages; read by the session loop after a wake-up.
#[derive(Debug, Default)]
pub(crate) struct Signals {
    /// Disconnected, or unsubscribed without asking: the session is over.
    pub(crate) broken: AtomicBool,
    /// The inbox was full and a message was dropped: announcements may be missing.
    pub(crate) lost: AtomicBool,
    pub(crate) wake: Notify,
}

impl Signals {
    fn raise(&self, flag: &AtomicBool) {
        flag.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

/// The connection's push sender: never blocks the connection (a full inbox drops the
/// message and raises `lost`), and never drops a disconnection. Payloads over the largest
/// any channel carries are dropped here; each channel's own bound is checked on delivery. Channel names need no bound:
/// the server only sends messages of the channels subscribed to, which are ours.
#[derive(Debug)]
pub(crate) struct Inbox {
    pub(crate) tx: mpsc::Sender<Delivery>,
    pub(crate) signals: Arc<Signals>,
}

impl AsyncPushSender for Inbox {
    fn send(&self, info: PushInfo) -> Result<(), SendError> {
        match info.kind {
            PushKind::Message | PushKind::SMessage => {
                let mut data = info.data.into_iter();
                if let (Some(Value::BulkString(channel)), Some(Value::BulkString(payload))) =
                    (data.next(), data.next())
                    && payload.len() <= MAX_ROUTING_PAYLOAD
                    && let Err(mpsc::error::TrySendError::Full(_)) =
                        self.tx.try_send(Delivery { channel, payload })
                {
                    self.signals.raise(&self.signals.lost);
                }
            }
            PushKind::Disconnection | PushKind::Unsubscribe | PushKind::SUnsubscribe => {
                self.signals.raise(&self.signals.broken);
            }
            _ => {}
        }
        Ok(())
    }
}

/// A live session; dropping it closes its connections.
pub(crate) enum Link {
    Single { _conn: MultiplexedConnection },
    Cluster { _conn: ClusterConnection },
}

/// Connects and subscribes to `channels`, pushes going to `inbox`. Not bounded in time by
/// itself: the caller puts its deadline around it.
pub(crate) async fn open(
    target: &Target,
    o: &RedisOptions,
    channels: &[String],
    inbox: Inbox,
) -> RedisResult<Link> {
    match target {
        Target::Single(url) => {
            let client = redis::Client::open(url.as_str())?;
            let info = client.get_connection_info().clone();
            let resp3 = info
                .redis_settings()
                .clone()
                .set_protocol(ProtocolVersion::RESP3);
            let client = redis::Client::open(info.set_redis_settings(resp3))?;
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(o.connect_timeout))
                .set_response_timeout(Some(o.response_timeout))
                .set_push_sender(inbox);
            let mut conn = client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            conn.subscribe(channels).await?;
            Ok(Link::Single { _conn: conn })
        }
        Target::Cluster(nodes) => {
            let client = redis::cluster::ClusterClientBuilder::new(nodes.clone())
                .use_protocol(ProtocolVersion::RESP3)
                .push_sender(inbox)
                .connection_timeout(o.connect_timeout)
                .response_timeout(o.response_timeout)
                .overall_response_timeout(Some(o.deadline))
                .retries(2)
                .min_retry_wait(50)
                .max_retry_wait(500)
                .build()?;
            let conn = client.get_async_connection().await?;
            stream::iter(channels.to_vec())
                .map(|ch| {
                    let mut c = conn.clone();
                    async move { c.ssubscribe(ch).await }
                })
                .buffer_unordered(PARALLEL)
                .try_collect::<()>()
                .await?;
            Ok(Link::Cluster { _conn: conn })
        }
    }
}
