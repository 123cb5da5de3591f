//! What an application plugs into the server: service-channel handlers, an authorizer,
//! message extensions and session listeners. The server itself knows no application.

use crate::context::Forwarded;
use crate::message::{Message, Reply};
use crate::server::BayeuxServer;
use crate::session::{ClientId, Removal};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::net::IpAddr;

/// A message published by a client to a `/service/**` channel.
#[derive(Debug)]
pub struct ServiceCall<'a> {
    /// The server, to deliver replies with [`BayeuxServer::deliver`].
    pub server: &'a BayeuxServer,
    /// The publishing client.
    pub client: &'a ClientId,
    /// The concrete channel published to.
    pub channel: &'a str,
    /// The payload.
    pub data: &'a RawValue,
    /// The message's `ext`.
    pub ext: Option<&'a Map<String, Value>>,
    /// The client's address (behind trusted proxies, the one they forwarded), when the
    /// transport knows it.
    pub remote: Option<IpAddr>,
    /// The request's `Origin` (JSONP: its `Referer`'s origin; WebSocket: the upgrade's).
    pub origin: Option<&'a str>,
    pub(crate) headers: &'a Forwarded,
}

impl ServiceCall<'_> {
    /// The value of a request header listed in `forward_headers` (any case; the first value
    /// when sent more than once). WebSocket messages carry those of the upgrade request.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(self.server.forward_index(name)?)
    }
}

/// Handles messages on the service channels it is registered for. Calls for one client are
/// made in the order the client sent them.
#[async_trait::async_trait]
pub trait ServiceHandler: Send + Sync + 'static {
    /// Handles one message; replies go through [`BayeuxServer::deliver`].
    async fn handle(&self, call: ServiceCall<'_>);
}

/// A refusal, with a short machine-readable reason for the error string.
#[derive(Debug, Clone)]
pub struct Denied(pub String);

/// Decides who may handshake, subscribe and publish. Every method allows by default.
pub trait Authorizer: Send + Sync + 'static {
    /// A handshake with its `ext`.
    fn handshake(&self, _ext: Option<&Map<String, Value>>) -> Result<(), Denied> {
        Ok(())
    }
    /// A subscription to `pattern` (a broadcast channel, possibly globbed).
    fn subscribe(&self, _client: &ClientId, _pattern: &str) -> Result<(), Denied> {
        Ok(())
    }
    /// A publish to the broadcast channel `channel`.
    fn publish(&self, _client: &ClientId, _channel: &str) -> Result<(), Denied> {
        Ok(())
    }
}

/// Sees every incoming message before processing and every reply before it is sent.
pub trait Extension: Send + Sync + 'static {
    /// May rewrite or refuse an incoming message.
    fn incoming(&self, _msg: &mut Message) -> Result<(), Denied> {
        Ok(())
    }
    /// May add to an outgoing reply (deliveries are encoded once and are not shown here).
    fn outgoing(&self, _reply: &mut Reply) {}
}

/// Told when sessions come and go.
pub trait SessionListener: Send + Sync + 'static {
    /// A session was created by a handshake.
    fn added(&self, _client: &ClientId) {}
    /// A session ended.
    fn removed(&self, _client: &ClientId, _why: Removal) {}
    /// A session was taken over from a node that is gone, with the state the application
    /// saved for it there ([`BayeuxServer::save_state`]): rebuild what it needs here.
    fn restored(&self, _server: &BayeuxServer, _client: &ClientId, _state: &crate::cluster::State) {
    }
}

/// The allow-everything authorizer.
#[derive(Debug, Default)]
pub struct AllowAll;

impl Authorizer for AllowAll {}
