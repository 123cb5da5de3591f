//! The shared routing state on Redis ([`RoutingStore`]): one HASH under its own hash tag
//! (`<prefix>:{routing}:state`: `v` the version, `s` the snapshot), saved by one script that
//! compares the version, writes, and announces the save on `<prefix>:{routing}:news` (same
//! slot; `SPUBLISH` on a cluster) as `<version>:<news>`. A load is one `HMGET`, a version
//! check one `HGET`, a save one script run. The announcements are heard by the store's
//! feed worker (`feed/`), which hands them to [`RedisRouting::subscribe`]'s receivers.

use crate::RedisStore;
use crate::conn::Conn;
use crate::feed::{RedisFeed, publish_command};
use crate::scripts::ROUTING_SAVE;
use async_trait::async_trait;
use chinwag_core::StoreError;
use chinwag_core::ports::{RoutingNews, RoutingSnapshot, RoutingStore};
use std::time::Duration;
use tokio::sync::broadcast;

/// The Redis [`RoutingStore`]; see [`RedisStore::routing`].
pub struct RedisRouting {
    conn: Conn,
    key: String,
    channel: String,
    deadline: Duration,
    news: broadcast::Sender<RoutingNews>,
}

impl std::fmt::Debug for RedisRouting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRouting")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// The shared routing state in this store, announcing its saves through `feed` (whose
    /// worker must run for other nodes' announcements to be heard).
    pub fn routing(&self, feed: &RedisFeed) -> RedisRouting {
        RedisRouting {
            conn: self.conn.clone(),
            key: self.layout.routing_key(),
            channel: self.layout.routing_channel(),
            deadline: self.deadline,
            news: feed.routing_sender(),
        }
    }
}

fn version_of(text: Option<String>) -> Result<u64, StoreError> {
    text.map_or(Ok(0), |v| {
        v.parse()
            .map_err(|_| StoreError::Backend(format!("corrupt routing version {v:?}")))
    })
}

#[async_trait]
impl RoutingStore for RedisRouting {
    async fn load(&self) -> Result<RoutingSnapshot, StoreError> {
        let read = redis::cmd("HMGET").arg(&self.key).arg("v").arg("s").clone();
        let (v, s): (Option<String>, Option<Vec<u8>>) = self
            .conn
            .run(self.deadline, |mut c| async move {
                read.query_async(&mut c).await
            })
            .await?;
        let version = version_of(v)?;
        if version == 0 && s.is_some() {
            return Err(StoreError::Backend(
                "routing state without a version".into(),
            ));
        }
        Ok(RoutingSnapshot { version, state: s })
    }

    async fn version(&self) -> Result<u64, StoreError> {
        let read = redis::cmd("HGET").arg(&self.key).arg("v").clone();
        let v: Option<String> = self
            .conn
            .run(self.deadline, |mut c| async move {
                read.query_async(&mut c).await
            })
            .await?;
        version_of(v)
    }

    async fn save(&self, base_version: u64, state: &[u8], news: &[u8]) -> Result<(), StoreError> {
        let mut inv = ROUTING_SAVE.prepare_invoke();
        inv.key(&self.key)
            .arg(base_version)
            .arg(state)
            .arg(publish_command(self.conn.is_cluster()))
            .arg(&self.channel)
            .arg(news);
        let answer: String = self
            .conn
            .run(self.deadline, |mut c| async move {
                inv.invoke_async(&mut c).await
            })
            .await?;
        match answer.as_str() {
            "ok" => Ok(()),
            "ok unannounced" => {
                tracing::warn!("routing save not announced on its channel");
                Ok(())
            }
            "conflict" => Err(StoreError::Conflict),
            why => Err(StoreError::Backend(format!("routing save refused: {why}"))),
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<RoutingNews> {
        self.news.subscribe()
    }
}
