//! Which CometD clients watch which chats, and how far each has been sent. Every
//! notification to a watcher — a reply or an unsolicited event — is filtered and sent under
//! one lock against that watcher's high-water mark, so each event index reaches a client
//! exactly once and in order, however replies and bus events interleave.

use crate::notify::Notification;
use chinwag_bayeux::{BayeuxServer, ClientId};
use chinwag_core::engine::ChatView;
use chinwag_core::event::Event;
use chinwag_core::ids::ChatId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// One client watching one chat.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    pub client: ClientId,
    pub channel: Arc<str>,
    pub key: Arc<str>,
    /// Highest index sent.
    pub sent: u64,
}

#[derive(Debug, Default)]
struct Tables {
    by_chat: HashMap<ChatId, Vec<Watch>>,
    by_client: HashMap<ClientId, (bool, Vec<ChatId>)>,
}

/// The watch tables.
#[derive(Debug, Default)]
pub(crate) struct Watchers {
    tables: Mutex<Tables>,
}

impl Watchers {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether any live client watches `chat`.
    pub(crate) fn is_watched(&self, chat: &ChatId) -> bool {
        self.lock().by_chat.get(chat).is_some_and(|w| !w.is_empty())
    }

    /// Records the client's one `requestChat`; false if it already made one.
    pub(crate) fn claim_request_chat(&self, client: &ClientId) -> bool {
        let mut t = self.lock();
        let entry = t.by_client.entry(client.clone()).or_default();
        !std::mem::replace(&mut entry.0, true)
    }

    /// Gives back a claim whose `requestChat` failed.
    pub(crate) fn release_request_chat(&self, client: &ClientId) {
        if let Some(e) = self.lock().by_client.get_mut(client) {
            e.0 = false;
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
    ) {
        let mut t = self.lock();
        let sent = from.saturating_sub(1);
        let list = t.by_chat.entry(chat.clone()).or_default();
        match list.iter_mut().find(|w| &w.client == client) {
            Some(w) => w.sent = sent,
            None => list.push(Watch {
                client: client.clone(),
                channel: channel.into(),
                key: key.into(),
                sent,
            }),
        }
        let chats = &mut t.by_client.entry(client.clone()).or_default().1;
        if !chats.contains(chat) {
            chats.push(chat.clone());
        }
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

    /// Sends a reply built from `view` to its watcher: only events it has not been sent.
    /// A client not watching the chat gets the view unfiltered.
    pub(crate) fn reply(
        &self,
        server: &BayeuxServer,
        client: &ClientId,
        channel: &str,
        key: Option<&str>,
        view: &ChatView,
    ) {
        let mut t = self.lock();
        let watch = t
            .by_chat
            .get_mut(&view.chat_id)
            .and_then(|l| l.iter_mut().find(|w| &w.client == client));
        let floor = watch.as_ref().map_or(0, |w| w.sent);
        let events: Vec<&Event> = view.events.iter().filter(|e| e.index.0 > floor).collect();
        if let (Some(w), Some(last)) = (watch, events.last()) {
            w.sent = last.index.0;
        }
        let n = Notification::ok(events, key, view.ended, view.monitored, view.next_position);
        let _ = server.deliver(client, channel, &n);
        if view.ended {
            drop(t);
            self.unwatch(client, &view.chat_id);
        }
    }

    /// Sends an event to every watcher of its chat that has not had it; forgets the chat's
    /// watchers once it has ended.
    pub(crate) fn on_event(
        &self,
        server: &BayeuxServer,
        chat: &ChatId,
        event: &Event,
        ended: bool,
        monitored: bool,
    ) {
        let mut t = self.lock();
        let Some(list) = t.by_chat.get_mut(chat) else {
            return;
        };
        let mut gone = Vec::new();
        for w in list.iter_mut().filter(|w| w.sent < event.index.0) {
            w.sent = event.index.0;
            let n = Notification::ok(
                [event],
                Some(&w.key),
                ended,
                monitored,
                Some(event.index.0 + 1),
            );
            if server.deliver(&w.client, &w.channel, &n).is_err() {
                gone.push(w.client.clone());
            }
        }
        let clients: Vec<ClientId> = if ended {
            t.by_chat
                .remove(chat)
                .map(|l| l.into_iter().map(|w| w.client).collect())
                .unwrap_or_default()
        } else {
            list.retain(|w| !gone.contains(&w.client));
            gone
        };
        for c in clients {
            if let Some(e) = t.by_client.get_mut(&c) {
                e.1.retain(|x| x != chat);
            }
        }
    }

    /// Stops `client` watching `chat`.
    pub(crate) fn unwatch(&self, client: &ClientId, chat: &ChatId) {
        let mut t = self.lock();
        if let Some(list) = t.by_chat.get_mut(chat) {
            list.retain(|w| &w.client != client);
            if list.is_empty() {
                t.by_chat.remove(chat);
            }
        }
        if let Some(e) = t.by_client.get_mut(client) {
            e.1.retain(|x| x != chat);
        }
    }

    /// Forgets a client whose session ended.
    pub(crate) fn client_gone(&self, client: &ClientId) {
        let mut t = self.lock();
        let Some((_, chats)) = t.by_client.remove(client) else {
            return;
        };
        for chat in chats {
            if let Some(list) = t.by_chat.get_mut(&chat) {
                list.retain(|w| &w.client != client);
                if list.is_empty() {
                    t.by_chat.remove(&chat);
                }
            }
        }
    }

    /// Every watch, for resynchronising after the bus lagged.
    pub(crate) fn all(&self) -> Vec<(ChatId, Watch)> {
        let t = self.lock();
        t.by_chat
            .iter()
            .flat_map(|(c, l)| l.iter().map(move |w| (c.clone(), w.clone())))
            .collect()
    }
}
