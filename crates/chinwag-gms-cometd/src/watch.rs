//! Which CometD clients watch which chats, how far each has been sent, and the one path every
//! notification to a client takes.
//!
//! Exactly once, in order: a notification to a watcher — an answer or an unsolicited event —
//! is filtered against the watcher's high-water mark and queued to the client's outbox under
//! the tables' lock, so each index is queued once and in order however answers and bus
//! events interleave. A chat's watches outlive its end until the client's own answer (or
//! the client) is gone, so the answer to a `disconnect` is still filtered against the
//! unsolicited `ParticipantLeft` that may have gone first.
//!
//! A watch (re)started from a position is caught up by reads of the transcript: events that
//! arrive meanwhile are not sent on their own (that would raise the mark past pages not yet
//! read, which would then be filtered out) but make the reads go on, until a read finds
//! nothing new.
//!
//! No lock is held while delivering: handing a notification to the Bayeux server can drop
//! the client (its queue overflowed), which calls back into [`Watchers::client_gone`]. Each
//! client's outbox is emptied, outside the lock, by whichever caller queued to an idle one
//! (the others only queue), so deliveries to one client keep the order they were queued in.

use crate::notify::Notification;
use chinwag_bayeux::{BayeuxServer, ClientId};
use chinwag_core::engine::ChatView;
use chinwag_core::event::Event;
use chinwag_core::ids::ChatId;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Chats one CometD client may watch at once (a chat client watches one).
pub(crate) const MAX_CHATS_PER_CLIENT: usize = 8;

/// Prefix of a watch's key in the state saved for a take-over (followed by the chat id).
pub(crate) const STATE_PREFIX: &str = "gms:";

/// A watch as saved for a take-over: its channel, sealed key and highest index sent.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct SavedWatch {
    pub channel: String,
    pub key: String,
    pub sent: u64,
}

/// Saves (or, with `None`, forgets) `client`'s watch of `chat` for the node that may take
/// the session over; `now` when nothing beyond it is in flight. Free outside a cluster.
pub(crate) fn save(
    server: &BayeuxServer,
    client: &ClientId,
    chat: &ChatId,
    watch: Option<(&str, &str, u64)>,
    now: bool,
) {
    if !server.is_clustered() {
        return;
    }
    let value = watch.and_then(|(channel, key, sent)| {
        serde_json::to_string(&SavedWatch {
            channel: channel.to_owned(),
            key: key.to_owned(),
            sent,
        })
        .ok()
    });
    let name = format!("{STATE_PREFIX}{}", chat.as_str());
    server.save_state(client, &name, value, now);
}

/// Marks advanced under the lock, saved after it.
type Marks = Vec<(ClientId, ChatId, Arc<str>, Arc<str>, u64)>;

fn save_marks(server: &BayeuxServer, marks: Marks) {
    for (client, chat, channel, key, sent) in marks {
        save(server, &client, &chat, Some((&channel, &key, sent)), false);
    }
}

/// Of an answer's events (ascending by index), those to send a client whose watch has been
/// sent up to `floor` (`None`: it watches nothing, so all of them): the ones above `floor`,
/// and none at all when the first of those does not directly follow it. That gap is a watch
/// made or restarted from an earlier position while the operation ran (a take-over's rebuilt
/// watch, whose read is under way): its own reads, or the bus, send those events in order,
/// and the answer must not raise its mark past events it was never sent.
fn unsent<T>(events: &[T], index: impl Fn(&T) -> u64, floor: Option<u64>) -> &[T] {
    let Some(floor) = floor else { return events };
    let start = events.partition_point(|e| index(e) <= floor);
    match events.get(start) {
        Some(first) if index(first) == floor + 1 => &events[start..],
        _ => &[],
    }
}

/// One client watching one chat.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    pub client: ClientId,
    pub channel: Arc<str>,
    pub key: Arc<str>,
    /// Highest index sent.
    pub sent: u64,
    /// The chat ended (the watch stays until the client's answer has been filtered).
    pub ended: bool,
    /// A (re)start is being answered from the transcript: events reach the client through
    /// those reads, not one by one, until [`Watchers::caught_up`].
    pub catching_up: bool,
    /// An event arrived while catching up (the reads must go on past it).
    pub missed: bool,
}

/// A client's side of the tables.
#[derive(Debug, Default)]
struct Client {
    /// It made its one `requestChat`.
    requested: bool,
    chats: Vec<ChatId>,
    /// Notifications queued, not yet handed to the Bayeux server: `(channel, data)`.
    outbox: VecDeque<(Arc<str>, String)>,
    /// Someone is emptying `outbox`.
    sending: bool,
}

impl Client {
    /// Queues a notification; true when the caller must empty the outbox.
    fn queue(&mut self, channel: &Arc<str>, data: String) -> bool {
        self.outbox.push_back((channel.clone(), data));
        !std::mem::replace(&mut self.sending, true)
    }
}

#[derive(Debug, Default)]
struct Tables {
    by_chat: HashMap<ChatId, Vec<Watch>>,
    by_client: HashMap<ClientId, Client>,
}

/// Watching `chat` was refused: the client watches too many chats.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TooMany;

/// The watch tables.
#[derive(Debug, Default)]
pub(crate) struct Watchers {
    tables: Mutex<Tables>,
}

fn encode(n: &Notification<'_>) -> Option<String> {
    serde_json::to_string(n).ok()
}

impl Watchers {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a live client watches `chat` (which has not ended).
    pub(crate) fn is_watched(&self, chat: &ChatId) -> bool {
        self.lock()
            .by_chat
            .get(chat)
            .is_some_and(|w| w.iter().any(|w| !w.ended))
    }

    /// Records the client's one `requestChat`; false if it already made one.
    pub(crate) fn claim_request_chat(&self, client: &ClientId) -> bool {
        let mut t = self.lock();
        let entry = t.by_client.entry(client.clone()).or_default();
        !std::mem::replace(&mut entry.requested, true)
    }

    /// Gives back a claim whose `requestChat` failed.
    pub(crate) fn release_request_chat(&self, client: &ClientId) {
        if let Some(e) = self.lock().by_client.get_mut(client) {
            e.requested = false;
        }
    }

    /// Starts (or restarts) watching `chat`, having sent everything below `from`.
    pub(crate) fn watch(
        &self,
        client: &ClientId,
        chat: &ChatId,
        channel: &str,
        key: &str,
        from: u64,
    ) -> Result<(), TooMany> {
        let mut t = self.lock();
        let chats = &mut t.by_client.entry(client.clone()).or_default().chats;
        if !chats.contains(chat) {
            if chats.len() >= MAX_CHATS_PER_CLIENT {
                return Err(TooMany);
            }
            chats.push(chat.clone());
        }
        let sent = from.saturating_sub(1);
        let list = t.by_chat.entry(chat.clone()).or_default();
        match list.iter_mut().find(|w| &w.client == client) {
            Some(w) => {
                w.sent = sent;
                w.ended = false;
                w.key = key.into();
                w.catching_up = true;
                w.missed = false;
            }
            None => list.push(Watch {
                client: client.clone(),
                channel: channel.into(),
                key: key.into(),
                sent,
                ended: false,
                catching_up: true,
                missed: false,
            }),
        }
        Ok(())
    }

    /// Ends the catching up of `client`'s watch of `chat` after a read that reached the end
    /// of the transcript: `Err(position)` to read again from when an event arrived since.
    pub(crate) fn caught_up(&self, client: &ClientId, chat: &ChatId) -> Result<(), u64> {
        let mut t = self.lock();
        let Some(w) = t
            .by_chat
            .get_mut(chat)
            .and_then(|l| l.iter_mut().find(|w| &w.client == client))
        else {
            return Ok(());
        };
        if std::mem::take(&mut w.missed) {
            return Err(w.sent + 1);
        }
        w.catching_up = false;
        Ok(())
    }

    /// How far `client` has been sent `chat`, if it watches it.
    pub(crate) fn sent(&self, client: &ClientId, chat: &ChatId) -> Option<u64> {
        let t = self.lock();
        t.by_chat
            .get(chat)?
            .iter()
            .find(|w| &w.client == client)
            .map(|w| w.sent)
    }

    /// Sends an answer built from `view` to `client`: only events its watch has not been
    /// sent (all of them when it watches nothing). An answer showing the chat ended closes
    /// the client's watch.
    pub(crate) fn reply(
        &self,
        server: &BayeuxServer,
        client: &ClientId,
        channel: &str,
        key: Option<&str>,
        view: &ChatView,
    ) {
        let mut mark = None;
        let must_send = {
            let mut t = self.lock();
            let watch = t
                .by_chat
                .get_mut(&view.chat_id)
                .and_then(|l| l.iter_mut().find(|w| &w.client == client));
            let floor = watch.as_ref().map(|w| w.sent);
            let events: Vec<&Event> = unsent(&view.events, |e| e.index.0, floor).iter().collect();
            if let (Some(w), Some(last)) = (watch, events.last()) {
                w.sent = last.index.0;
                mark = Some((w.channel.clone(), w.key.clone(), w.sent));
            }
            let n = Notification::ok(events, key, view.ended, view.monitored, view.next_position);
            if view.ended {
                Self::unwatch_locked(&mut t, client, &view.chat_id);
            }
            encode(&n).is_some_and(|data| {
                t.by_client
                    .entry(client.clone())
                    .or_default()
                    .queue(&channel.into(), data)
            })
        };
        if view.ended {
            save(server, client, &view.chat_id, None, true);
        } else if let Some((channel, key, sent)) = mark {
            save(
                server,
                client,
                &view.chat_id,
                Some((&channel, &key, sent)),
                false,
            );
        }
        if must_send {
            self.drain(server, client);
        }
    }

    /// Sends a notification that is not filtered (an error, an explicit history read) in
    /// its place among the client's other notifications.
    pub(crate) fn send(
        &self,
        server: &BayeuxServer,
        client: &ClientId,
        channel: &str,
        n: &Notification<'_>,
    ) {
        let Some(data) = encode(n) else { return };
        let must_send = self
            .lock()
            .by_client
            .entry(client.clone())
            .or_default()
            .queue(&channel.into(), data);
        if must_send {
            self.drain(server, client);
        }
    }

    /// Sends an event to every watcher of its chat that has not had it; once the chat has
    /// ended, its watches are marked ended.
    pub(crate) fn on_event(
        &self,
        server: &BayeuxServer,
        chat: &ChatId,
        event: &Event,
        ended: bool,
        monitored: bool,
    ) {
        let mut drainers = Vec::new();
        let clustered = server.is_clustered();
        let mut marks: Marks = Vec::new();
        {
            let mut t = self.lock();
            let Tables {
                by_chat, by_client, ..
            } = &mut *t;
            let Some(list) = by_chat.get_mut(chat) else {
                return;
            };
            for w in list.iter_mut().filter(|w| !w.ended) {
                if w.catching_up {
                    w.missed |= w.sent < event.index.0;
                } else if w.sent < event.index.0 {
                    w.sent = event.index.0;
                    if clustered {
                        marks.push((
                            w.client.clone(),
                            chat.clone(),
                            w.channel.clone(),
                            w.key.clone(),
                            w.sent,
                        ));
                    }
                    let next = Some(event.index.0 + 1);
                    let n = Notification::ok([event], Some(&w.key), ended, monitored, next);
                    let client = by_client.entry(w.client.clone()).or_default();
                    if encode(&n).is_some_and(|data| client.queue(&w.channel, data)) {
                        drainers.push(w.client.clone());
                    }
                }
                w.ended |= ended;
            }
        }
        save_marks(server, marks);
        for client in drainers {
            self.drain(server, &client);
        }
    }

    /// Hands `client`'s queued notifications to the Bayeux server, one at a time, without
    /// holding the lock; stops when the outbox is empty or the client is gone.
    fn drain(&self, server: &BayeuxServer, client: &ClientId) {
        loop {
            let next = {
                let mut t = self.lock();
                let Some(c) = t.by_client.get_mut(client) else {
                    return;
                };
                match c.outbox.pop_front() {
                    Some(n) => n,
                    None => {
                        c.sending = false;
                        return;
                    }
                }
            };
            if server.deliver_json(client, &next.0, &next.1).is_err() {
                // The session is gone (or was just dropped): forget the client.
                self.client_gone(client);
                return;
            }
        }
    }

    fn unwatch_locked(t: &mut Tables, client: &ClientId, chat: &ChatId) {
        if let Some(list) = t.by_chat.get_mut(chat) {
            list.retain(|w| &w.client != client);
            if list.is_empty() {
                t.by_chat.remove(chat);
            }
        }
        if let Some(e) = t.by_client.get_mut(client) {
            e.chats.retain(|x| x != chat);
        }
    }

    /// Stops `client` watching `chat`.
    pub(crate) fn unwatch(&self, client: &ClientId, chat: &ChatId) {
        Self::unwatch_locked(&mut self.lock(), client, chat);
    }

    /// Forgets a client whose session ended (with anything still queued for it).
    pub(crate) fn client_gone(&self, client: &ClientId) {
        let mut t = self.lock();
        let Some(entry) = t.by_client.remove(client) else {
            return;
        };
        for chat in entry.chats {
            if let Some(list) = t.by_chat.get_mut(&chat) {
                list.retain(|w| &w.client != client);
                if list.is_empty() {
                    t.by_chat.remove(&chat);
                }
            }
        }
    }

    /// Every watch of a chat still open, for resynchronising after the bus lagged.
    pub(crate) fn all(&self) -> Vec<(ChatId, Watch)> {
        let t = self.lock();
        t.by_chat
            .iter()
            .flat_map(|(c, l)| {
                l.iter()
                    .filter(|w| !w.ended)
                    .map(move |w| (c.clone(), w.clone()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::unsent;

    #[test]
    fn an_answer_sends_only_what_follows_the_watch_without_a_gap() {
        let events = [3u64, 4, 5];
        let id = |e: &u64| *e;
        assert_eq!(unsent(&events, id, None), [3, 4, 5], "no watch: everything");
        assert_eq!(unsent(&events, id, Some(2)), [3, 4, 5]);
        assert_eq!(
            unsent(&events, id, Some(3)),
            [4, 5],
            "what was sent is left out"
        );
        assert_eq!(unsent(&events, id, Some(5)), [] as [u64; 0]);
        // A watch rebuilt at 1 while the answer was computed from the newest event only
        // (a take-over racing the client's own send): events 2 to 4 are the watch's to send.
        assert_eq!(unsent(&[5u64], id, Some(1)), [] as [u64; 0]);
        assert_eq!(unsent(&events, id, Some(1)), [] as [u64; 0]);
    }
}
