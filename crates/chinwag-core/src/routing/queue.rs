//! The waiting chats of one queue: FIFO order with O(log n) insertion at either end and
//! removal anywhere, split into chats nobody declined yet and chats some agent declined (so
//! dispatch can skip the latter without walking over the former), plus an index by waiting
//! time for the queue's maximum wait.
//!
//! Order is kept by a sequence key: chats joining at the back take increasing keys, chats put
//! back at the front take decreasing ones, so the smallest key is the head across both halves.

use crate::ids::{AgentId, ChatId, QueueName, ServiceName};
use crate::settings::QueueSettings;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

/// One waiting chat.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// The chat.
    pub chat_id: ChatId,
    /// Its service.
    pub service: ServiceName,
    /// Its queue.
    pub queue: QueueName,
    /// When it started waiting (epoch ms). Kept when an offer fails and it goes back.
    pub since_ms: i64,
    /// Agents who declined or missed it, skipped while others are available (each once).
    pub declined_by: Vec<AgentId>,
}

/// A chat's place in its queue (smaller is nearer the head).
pub(super) type Seq = i64;

/// The waiting chats of one queue.
#[derive(Debug, Clone)]
pub(super) struct Queue {
    /// The queue's configuration.
    pub(super) settings: QueueSettings,
    /// Chats nobody has declined: dispatch never skips them while an agent is available.
    fresh: BTreeMap<Seq, Waiting>,
    /// Chats some agent declined or missed.
    declined: BTreeMap<Seq, Waiting>,
    /// `(since_ms, seq)` of every waiting chat, oldest first.
    by_since: BTreeSet<(i64, Seq)>,
    /// Key of the next chat joining at the back.
    back: Seq,
    /// Key of the chat most recently put at the front.
    front: Seq,
}

impl Queue {
    /// An empty queue.
    pub(super) fn new(settings: QueueSettings) -> Self {
        Self {
            settings,
            fresh: BTreeMap::new(),
            declined: BTreeMap::new(),
            by_since: BTreeSet::new(),
            back: 0,
            front: 0,
        }
    }

    /// Adds a chat behind all others; returns its key.
    pub(super) fn push_back(&mut self, waiting: Waiting) -> Seq {
        let seq = self.back;
        self.back += 1;
        self.insert(seq, waiting);
        seq
    }

    /// Adds a chat ahead of all others; returns its key.
    pub(super) fn push_front(&mut self, waiting: Waiting) -> Seq {
        self.front -= 1;
        let seq = self.front;
        self.insert(seq, waiting);
        seq
    }

    fn insert(&mut self, seq: Seq, waiting: Waiting) {
        self.by_since.insert((waiting.since_ms, seq));
        if waiting.declined_by.is_empty() {
            self.fresh.insert(seq, waiting);
        } else {
            self.declined.insert(seq, waiting);
        }
    }

    /// The chat at `seq`.
    pub(super) fn get(&self, seq: Seq) -> Option<&Waiting> {
        self.fresh.get(&seq).or_else(|| self.declined.get(&seq))
    }

    /// Takes the chat at `seq` out.
    pub(super) fn remove(&mut self, seq: Seq) -> Option<Waiting> {
        let waiting = self
            .fresh
            .remove(&seq)
            .or_else(|| self.declined.remove(&seq))?;
        self.by_since.remove(&(waiting.since_ms, seq));
        Some(waiting)
    }

    /// Number of chats ahead of `seq` (O(position)).
    pub(super) fn position(&self, seq: Seq) -> usize {
        self.fresh.range(..seq).count() + self.declined.range(..seq).count()
    }

    /// Key of the first chat nobody declined.
    pub(super) fn first_fresh(&self) -> Option<Seq> {
        self.fresh.keys().next().copied()
    }

    /// Key of the first declined chat after `after` (from the head when `None`).
    pub(super) fn next_declined(&self, after: Option<Seq>) -> Option<Seq> {
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.declined
            .range((from, Bound::Unbounded))
            .next()
            .map(|(seq, _)| *seq)
    }

    /// When the longest-waiting chat reaches the maximum wait, if the queue has one.
    pub(super) fn wait_deadline(&self) -> Option<i64> {
        let max = self.settings.max_wait_ms?;
        let (since, _) = self.by_since.first()?;
        Some(since.saturating_add(max))
    }

    /// Takes out the longest-waiting chat if it has waited the maximum wait by `now_ms`.
    pub(super) fn pop_overdue(&mut self, now_ms: i64) -> Option<Waiting> {
        if self.wait_deadline()? > now_ms {
            return None;
        }
        let (_, seq) = self.by_since.first().copied()?;
        self.remove(seq)
    }

    /// Every chat with its key, head first (O(n); for the shared snapshot).
    pub(super) fn entries(&self) -> Vec<(Seq, &Waiting)> {
        let mut all: Vec<(Seq, &Waiting)> = self
            .fresh
            .iter()
            .chain(self.declined.iter())
            .map(|(s, w)| (*s, w))
            .collect();
        all.sort_by_key(|(s, _)| *s);
        all
    }

    /// The keys the next chats at the back and at the front take after `back - 1` and
    /// before `front`.
    pub(super) fn ends(&self) -> (Seq, Seq) {
        (self.back, self.front)
    }

    /// Number of waiting chats.
    pub(super) fn waiting_len(&self) -> usize {
        self.fresh.len() + self.declined.len()
    }

    /// The waiting chats, longest waiting first (lazily: taking k costs O(k log n)).
    pub(super) fn by_wait(&self) -> impl Iterator<Item = &Waiting> + '_ {
        self.by_since.iter().filter_map(|(_, seq)| self.get(*seq))
    }

    /// A queue holding `entries` (keys as saved), continuing from the saved ends.
    pub(super) fn restored(
        settings: QueueSettings,
        (back, front): (Seq, Seq),
        entries: impl IntoIterator<Item = (Seq, Waiting)>,
    ) -> Self {
        let mut q = Self::new(settings);
        for (seq, w) in entries {
            q.back = q.back.max(seq + 1);
            q.front = q.front.min(seq);
            q.insert(seq, w);
        }
        q.back = q.back.max(back);
        q.front = q.front.min(front);
        q
    }

    /// Chats in order, head first (O(n); for tests and diagnostics).
    #[cfg(test)]
    pub(super) fn order(&self) -> Vec<ChatId> {
        let mut all: Vec<(Seq, &Waiting)> = self
            .fresh
            .iter()
            .chain(self.declined.iter())
            .map(|(s, w)| (*s, w))
            .collect();
        all.sort_by_key(|(s, _)| *s);
        all.into_iter().map(|(_, w)| w.chat_id.clone()).collect()
    }
}
