//! Shared test server: a real Bayeux server with an echo service on loopback, and raw HTTP
//! helpers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    dead_code,
    unreachable_pub
)]

use chinwag_bayeux::{BayeuxConfig, BayeuxServer, ServiceCall, ServiceHandler};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

pub struct Echo;

#[async_trait::async_trait]
impl ServiceHandler for Echo {
    async fn handle(&self, call: ServiceCall<'_>) {
        let data: Value = serde_json::from_str(call.data.get()).unwrap_or(Value::Null);
        let _ = call
            .server
            .deliver(call.client, call.channel, &json!({"echo": data}));
    }
}

/// Answers with what the request told the application: client address, origin and the
/// forwarded headers `apikey` and `authorization`.
pub struct Context;

#[async_trait::async_trait]
impl ServiceHandler for Context {
    async fn handle(&self, call: ServiceCall<'_>) {
        let seen = json!({
            "remote": call.remote.map(|ip| ip.to_string()),
            "origin": call.origin,
            "apikey": call.header("apikey"),
            "authorization": call.header("Authorization"),
        });
        let _ = call.server.deliver(call.client, call.channel, &seen);
    }
}

pub struct Srv {
    pub addr: std::net::SocketAddr,
    pub url: String,
    pub http: reqwest::Client,
    pub server: BayeuxServer,
    /// The accept loop's connection counters.
    pub stats: Arc<chinwag_http::ConnStats>,
}

pub async fn start(config: BayeuxConfig) -> Srv {
    start_with(config, chinwag_http::Settings::default()).await
}

/// A server whose accept loop has `settings`.
pub async fn start_with(config: BayeuxConfig, settings: chinwag_http::Settings) -> Srv {
    let trusted = config.trusted_proxies.clone();
    let server = BayeuxServer::builder(config)
        .service("/service/echo", Arc::new(Echo))
        .service("/service/context", Arc::new(Context))
        .build();
    let app = server.router("/cometd");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The way an application serves it: the lean long-polling front before the router.
    let front = chinwag_bayeux::front::Front::new(server.clone(), "/cometd", 8192);
    let stop = tokio_util::sync::CancellationToken::new();
    let http = chinwag_http::Server::new(settings, trusted);
    let stats = http.stats();
    tokio::spawn(http.serve(listener, app, Some(front), stop));
    Srv {
        addr,
        url: format!("http://{addr}/cometd"),
        http: reqwest::Client::new(),
        server,
        stats,
    }
}

/// Waits (bounded) until `cond` holds; panics with `what` otherwise.
pub async fn eventually(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let wait = async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(secs), wait)
        .await
        .unwrap_or_else(|_| panic!("not within {secs} s: {what}"));
}

impl Srv {
    pub async fn raw(
        &self,
        path: &str,
        body: &str,
        cookie: Option<&str>,
    ) -> (u16, String, Option<String>) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(c) = cookie {
            req = req.header("cookie", format!("BAYEUX_BROWSER={c}"));
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let set = r
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, r.text().await.unwrap(), set)
    }

    pub async fn post(&self, body: Value, cookie: Option<&str>) -> Vec<Value> {
        let (status, text, _) = self.raw("", &body.to_string(), cookie).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Handshake + first connect; returns (clientId, browser cookie).
    /// POSTs `body` in the background (a connect to be held); the task yields the reply text.
    pub fn post_later(
        &self,
        path: &str,
        body: &Value,
        browser: &str,
    ) -> tokio::task::JoinHandle<String> {
        let req = self
            .http
            .post(format!("{}{path}", self.url))
            .header("cookie", format!("BAYEUX_BROWSER={browser}"))
            .body(body.to_string());
        tokio::spawn(async move { req.send().await.unwrap().text().await.unwrap() })
    }

    pub async fn session(&self) -> (String, String) {
        let (_, text, set) = self
            .raw("/handshake", r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"id":"1"}]"#, None)
            .await;
        let v: Vec<Value> = serde_json::from_str(&text).unwrap();
        let id = v[0]["clientId"].as_str().unwrap().to_owned();
        let browser = browser_of(&set.unwrap());
        let r = self.post(json!([{"channel":"/meta/connect","clientId":id,"connectionType":"long-polling","id":"2"}]), Some(&browser)).await;
        assert_eq!(r[0]["successful"], true);
        (id, browser)
    }
}

/// The browser id in a `Set-Cookie: BAYEUX_BROWSER=…; …` value.
pub fn browser_of(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

pub fn quick() -> BayeuxConfig {
    BayeuxConfig {
        timeout: Duration::from_millis(1500),
        ..BayeuxConfig::default()
    }
}

/// One HTTP/1.1 response off a raw connection: status, lower-cased head, body.
pub async fn response(s: &mut TcpStream, pending: &mut Vec<u8>) -> (u16, String, String) {
    let head_end = loop {
        if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut chunk))
            .await
            .expect("a response in time")
            .unwrap();
        assert!(n > 0, "connection closed before a response");
        pending.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(pending[..head_end].to_vec())
        .unwrap()
        .to_ascii_lowercase();
    let status = head[9..12].parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while pending.len() < head_end + len {
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed inside a body");
        pending.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8(pending[head_end..head_end + len].to_vec()).unwrap();
    pending.drain(..head_end + len);
    (status, head, body)
}

pub fn post(path: &str, extra: &str, body: &str) -> String {
    format!(
        "POST /cometd{path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\n\r\n{body}",
        body.len()
    )
}
