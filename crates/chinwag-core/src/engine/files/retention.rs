//! A chat's files go with the chat: before its first upload, the chat gets a durable `files`
//! timer (kept if it has one), and whichever node fires it deletes every file of the chat
//! once the chat ended `ended_retention_ms` ago (or is gone from the store), or moves the
//! timer to when that will be. An upload that never got announced (its client went away, its
//! node died) is deleted then too. Nothing is held in memory per chat.

use crate::ChatEngine;
use crate::error::CoreError;
use crate::ids::ChatId;
use crate::timers::{DueTimer, Schedule, TimerKey, TimerKind};

impl ChatEngine {
    /// Makes sure `chat` has its `files` timer (due no sooner than one retention from now).
    pub(super) async fn keep_files_until_retention(&self, chat: &ChatId) -> Result<(), CoreError> {
        let key = TimerKey::new(TimerKind::Files, chat.clone());
        let due = self
            .now_ms()
            .saturating_add(self.settings.ended_retention_ms);
        self.store
            .schedule(&[(key, due)], Schedule::KeepExisting)
            .await?;
        Ok(())
    }

    /// Fires a chat's `files` timer: deletes its files if its retention is over, or moves
    /// the timer to when it will be.
    pub(in crate::engine) async fn fire_files(&self, timer: &DueTimer) -> Result<(), CoreError> {
        let chat = &timer.key.chat;
        let retention = self.settings.ended_retention_ms;
        let now = self.now_ms();
        let ended = match self.fresh_slot(chat).await? {
            Some(slot) => super::lock(&slot.state).record.ended_ms,
            None => Some(i64::MIN), // purged (or never stored): its files go now
        };
        let next = match ended {
            Some(at) if at.saturating_add(retention) <= now => None,
            Some(at) => Some(at.saturating_add(retention)),
            None => Some(now.saturating_add(retention)),
        };
        if let Some(due) = next {
            self.store.reschedule(timer, due).await?;
            return Ok(());
        }
        let Some(blobs) = self.blobs.get() else {
            // No blob store in this process (file transfer off): nothing to delete here.
            self.store.complete(timer).await?;
            return Ok(());
        };
        let deleted = blobs
            .delete_chat(chat)
            .await
            .map_err(super::stage::blob_failure)?;
        tracing::debug!(chat = %chat.as_str(), deleted, "files of an ended chat deleted");
        metrics::counter!("chinwag_files_purged_total").increment(deleted);
        self.store.complete(timer).await?;
        Ok(())
    }
}
