//! Server settings: advice timings, limits (queues, handshakes, sessions, subscriptions,
//! WebSocket keep-alive and send timeouts), the browser cookie, cross-origin rules, and what
//! of a request (client address behind trusted proxies, forwarded headers) applications see.

use chinwag_http::{Origins, TrustedProxies};
use chinwag_limits::Rate;
use std::sync::Arc;
use std::time::Duration;

/// How the `BAYEUX_BROWSER` cookie is written.
#[derive(Debug, Clone)]
pub struct CookieConfig {
    /// Cookie name.
    pub name: String,
    /// Cross-site embedding: adds `SameSite=None; Secure; Partitioned` (CHIPS).
    pub cross_site: bool,
    /// Adds `Secure` even when not cross-site (HTTPS deployments).
    pub secure: bool,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            name: "BAYEUX_BROWSER".into(),
            cross_site: false,
            secure: false,
        }
    }
}

/// Bayeux server settings. Defaults follow CometD except `timeout`, kept at 25 s so a parked
/// `/meta/connect` returns before common 30 s proxy and load-balancer idle timeouts.
#[derive(Debug, Clone)]
pub struct BayeuxConfig {
    /// How long a `/meta/connect` is held (advice `timeout`).
    pub timeout: Duration,
    /// Advice `interval` between connects.
    pub interval: Duration,
    /// A session with no connect for this long is swept (advice `maxInterval`).
    pub max_interval: Duration,
    /// How often the sweeper runs.
    pub sweep_period: Duration,
    /// Messages queued (and, with the ack extension, sent but unacknowledged) for one client
    /// before it is dropped as too slow (it must handshake again and resynchronise).
    pub max_queue: usize,
    /// The same bound in bytes of encoded messages: passing either drops the client.
    pub max_queue_bytes: usize,
    /// Parked long-poll connects allowed per browser before `multiple-clients` advice.
    pub max_sessions_per_browser: u32,
    /// `interval` advised to the extra clients of one browser.
    pub multi_session_interval: Duration,
    /// Most messages accepted in one request.
    pub max_batch: usize,
    /// Largest request body or WebSocket message, in bytes.
    pub max_message_bytes: usize,
    /// The browser cookie.
    pub cookie: CookieConfig,
    /// Origins allowed to call cross-origin; others are refused with `403::origin_denied`
    /// (requests without `Origin` and same-origin ones always pass).
    pub origins: Origins,
    /// Proxies whose `X-Forwarded-For` is believed when finding the client's address.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Request headers (lower-case names) handed to service handlers
    /// ([`crate::hooks::ServiceCall::header`]).
    pub forward_headers: Vec<String>,
    /// Handshakes allowed per client address (IPv6: per /64); more get
    /// `429::handshake_rate_limited`.
    pub handshakes_per_ip: Rate,
    /// Sessions at once; a handshake beyond gets `503::server_full`.
    pub max_clients: usize,
    /// Broadcast subscriptions per session; more get `403:<n>:subscription_limit`.
    pub max_subscriptions: usize,
    /// WebSocket: a Ping is sent after this long without a frame from the client
    /// (zero: never).
    pub ws_ping_interval: Duration,
    /// WebSocket: the socket is closed when nothing arrives this long after a Ping.
    pub ws_pong_timeout: Duration,
    /// WebSocket: a send not done within this long closes the socket (a client that stopped
    /// reading).
    pub ws_send_timeout: Duration,
    /// Offer and accept the `websocket` transport.
    pub websocket: bool,
    /// Offer and accept the `callback-polling` (JSONP) transport.
    pub callback_polling: bool,
}

impl Default for BayeuxConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(25),
            interval: Duration::ZERO,
            max_interval: Duration::from_secs(10),
            sweep_period: Duration::from_millis(997),
            max_queue: 10_000,
            max_queue_bytes: 8 << 20,
            max_sessions_per_browser: 1,
            multi_session_interval: Duration::from_secs(2),
            max_batch: 1_000,
            max_message_bytes: 256 * 1024,
            cookie: CookieConfig::default(),
            origins: Origins::default(),
            trusted_proxies: Arc::default(),
            forward_headers: Vec::new(),
            handshakes_per_ip: Rate::new(5.0, 50),
            max_clients: 100_000,
            max_subscriptions: 64,
            ws_ping_interval: Duration::from_secs(30),
            ws_pong_timeout: Duration::from_secs(30),
            ws_send_timeout: Duration::from_secs(30),
            websocket: true,
            callback_polling: true,
        }
    }
}

/// A Bayeux connection type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// HTTP POST long-polling.
    LongPolling,
    /// JSONP GET long-polling.
    CallbackPolling,
    /// One WebSocket carrying JSON arrays.
    WebSocket,
}

impl Transport {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LongPolling => "long-polling",
            Self::CallbackPolling => "callback-polling",
            Self::WebSocket => "websocket",
        }
    }

    /// Whether it runs over plain HTTP requests (so the browser cookie applies).
    pub fn is_http(self) -> bool {
        !matches!(self, Self::WebSocket)
    }
}

impl BayeuxConfig {
    /// The connection types this server offers, in preference order.
    pub fn transports(&self) -> Vec<Transport> {
        let mut out = Vec::with_capacity(3);
        if self.websocket {
            out.push(Transport::WebSocket);
        }
        out.push(Transport::LongPolling);
        if self.callback_polling {
            out.push(Transport::CallbackPolling);
        }
        out
    }
}
