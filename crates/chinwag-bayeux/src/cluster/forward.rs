//! Forwarding an HTTP request to the node that owns its session, and reading one forwarded
//! here. A forwarded request is a POST of the batch (as JSON) to the owner's Bayeux
//! endpoint, carrying what the first node learnt of the client in `x-chinwag-*` headers:
//! the transport, the client's address, `Origin`, browser id and forwarded headers. It is
//! trusted only with the cluster secret in [`FORWARD_HEADER`] (compared in constant time);
//! the lean front leaves every request with that header to the general server, which checks
//! it, and refuses a wrong one with `403`.

use super::{Cluster, Owner, same_secret};
use crate::config::Transport;
use crate::context::Forwarded;
use crate::message::{Message, Part};
use crate::process::Request;
use crate::server::BayeuxServer;
use axum::http::HeaderMap;
use serde_json::value::RawValue;
use std::time::Duration;

/// The header carrying the cluster secret.
pub(crate) const FORWARD_HEADER: &str = "x-chinwag-forward";
pub(super) const TRANSPORT: &str = "x-chinwag-transport";
pub(super) const CLIENT: &str = "x-chinwag-client";
pub(super) const ORIGIN: &str = "x-chinwag-origin";
pub(super) const BROWSER: &str = "x-chinwag-browser";
/// Prefix of a forwarded header, followed by its place in `forward_headers`.
pub(super) const HEADER: &str = "x-chinwag-h-";

/// Time a forwarded request may take beyond the longest hold of a connect.
const MARGIN: Duration = Duration::from_secs(10);

/// What forwarding gave.
pub(crate) enum Outcome {
    /// The owner's answer, message by message.
    Answer(Vec<Part>),
    /// The owner could not be reached at all: it is gone.
    Unreachable,
    /// The owner was reached but did not answer properly (in time, or at all).
    Failed(String),
}

/// Forwards `msgs`, as `req` brought them, to `owner`.
pub(crate) async fn forward(
    server: &BayeuxServer,
    cluster: &Cluster,
    owner: &Owner,
    msgs: &[Message],
    req: &Request,
) -> Outcome {
    let body = match serde_json::to_vec(msgs) {
        Ok(b) => b,
        Err(e) => return Outcome::Failed(format!("encode: {e}")),
    };
    let url = format!(
        "{}{}",
        owner.addr.trim_end_matches('/'),
        cluster.options.mount
    );
    let mut r = cluster
        .http
        .post(url)
        .timeout(server.config().timeout + MARGIN)
        .header("content-type", "application/json")
        .header(FORWARD_HEADER, &cluster.options.secret)
        .header(TRANSPORT, req.transport.as_str());
    if let Some(ip) = req.remote {
        r = r.header(CLIENT, ip.to_string());
    }
    if let Some(o) = &req.origin {
        r = r.header(ORIGIN, &**o);
    }
    if let Some(b) = &req.browser {
        r = r.header(BROWSER, &**b);
    }
    for (i, v) in req.headers.iter() {
        r = r.header(format!("{HEADER}{i}"), v);
    }
    let mut resp = match r.body(body).send().await {
        Ok(resp) => resp,
        Err(e) if e.is_connect() => return Outcome::Unreachable,
        // A kept-alive connection to an owner that has just died fails this way: the owner
        // is gone if a new connection is refused too.
        Err(e)
            if !e.is_timeout() && !accepts(&owner.addr, cluster.options.connect_timeout).await =>
        {
            return Outcome::Unreachable;
        }
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    if !resp.status().is_success() {
        return Outcome::Failed(format!("owner answered {}", resp.status()));
    }
    // An answer holds at most a client's queue plus the replies to its batch.
    let c = server.config();
    let max = c.max_queue_bytes + 2 * c.max_message_bytes + 64 * 1024;
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) if bytes.len() + chunk.len() <= max => bytes.extend_from_slice(&chunk),
            Ok(Some(_)) => return Outcome::Failed("owner's answer too large".into()),
            Ok(None) => break,
            Err(e) => return Outcome::Failed(e.to_string()),
        }
    }
    match serde_json::from_slice::<Vec<Box<RawValue>>>(&bytes) {
        Ok(parts) => Outcome::Answer(
            parts
                .into_iter()
                .map(|p| Part::Own(p.get().to_owned()))
                .collect(),
        ),
        Err(e) => Outcome::Failed(format!("owner's answer: {e}")),
    }
}

/// Whether a node at base URL `addr` accepts a TCP connection within `wait`.
async fn accepts(addr: &str, wait: Duration) -> bool {
    let host = addr.trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    matches!(
        tokio::time::timeout(wait, tokio::net::TcpStream::connect(host)).await,
        Ok(Ok(_))
    )
}

/// Whether `headers` make a request forwarded by another node: `None` when they do not
/// claim to, `Some(Err(()))` when they claim to without the secret, else its context.
pub(crate) fn forwarded_request(
    server: &BayeuxServer,
    headers: &HeaderMap,
) -> Option<Result<Request, ()>> {
    let claimed = headers.get(FORWARD_HEADER)?;
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let secret = server.cluster().map(|c| c.options.secret.as_str());
    let genuine = secret.is_some_and(|s| {
        !s.is_empty() && claimed.to_str().is_ok_and(|given| same_secret(given, s))
    });
    if !genuine {
        return Some(Err(()));
    }
    let transport = match text(TRANSPORT) {
        Some("callback-polling") => Transport::CallbackPolling,
        Some("websocket") => Transport::WebSocket,
        _ => Transport::LongPolling,
    };
    let mut forwarded = Forwarded::default();
    for i in 0..server.config().forward_headers.len() {
        if let Some(v) = text(&format!("{HEADER}{i}")) {
            forwarded.add(i, v);
        }
    }
    Some(Ok(Request {
        transport,
        browser: text(BROWSER).map(Into::into),
        remote: text(CLIENT).and_then(|ip| ip.parse().ok()),
        origin: text(ORIGIN).map(Into::into),
        headers: forwarded,
        forwarded: true,
    }))
}
