//! Reading a request head and body off the socket, and deciding from the head whether the
//! front serves the request. Only the headers the front looks at are decoded, borrowed from
//! the read buffer: length, type, cookie, connection, `Origin` and `Host` (the origin rule),
//! `X-Forwarded-For` (only from a trusted proxy) and the forwarded headers an application
//! asked for.

use super::Front;
use crate::context::Forwarded;
use crate::http::{browser_cookie, is_form};
use axum::http::{HeaderName, HeaderValue};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Headers looked at; a request with more goes to the general server.
const MAX_HEADERS: usize = 48;
/// `X-Forwarded-For` lines looked at (the last ones: the nearest hops).
const MAX_FORWARDED_FOR: usize = 8;

/// The peer of a connection, looked at once.
pub(super) struct PeerInfo {
    ip: IpAddr,
    /// A trusted proxy: its `X-Forwarded-For` names the client.
    trusted: bool,
    /// The client when the peer is not a trusted proxy (the peer, in canonical form).
    direct: IpAddr,
}

impl PeerInfo {
    pub(super) fn new(front: &Front, peer: SocketAddr) -> Self {
        let trusted = &front.server.config().trusted_proxies;
        Self {
            ip: peer.ip(),
            trusted: trusted.contains(peer.ip()),
            direct: trusted.resolve(peer.ip(), std::iter::empty()),
        }
    }
}

/// What the front takes from a request head it serves.
pub(super) struct Head {
    pub(super) len: usize,
    pub(super) options: bool,
    pub(super) content_length: usize,
    pub(super) form: bool,
    pub(super) origin: Option<Box<str>>,
    /// CORS headers (none built for a request without `Origin`).
    pub(super) cors: Vec<(HeaderName, HeaderValue)>,
    /// A POST from an origin that is not allowed (answered 403, not processed).
    pub(super) denied: bool,
    pub(super) browser: Option<Arc<str>>,
    pub(super) close: bool,
    pub(super) remote: IpAddr,
    pub(super) headers: Forwarded,
}

pub(super) enum Read {
    Closed,
    Other,
    Ours(Head),
}

impl Front {
    /// Reads the body of a request the front serves (a request followed by more bytes, i.e.
    /// pipelining, is left to the general server).
    pub(super) async fn read_body(
        &self,
        stream: &mut TcpStream,
        buf: &mut Vec<u8>,
        head: Head,
    ) -> Read {
        let total = head.len + head.content_length;
        while buf.len() < total {
            buf.reserve_exact(total - buf.len());
            match stream.read_buf(buf).await {
                Ok(0) | Err(_) => return Read::Closed,
                Ok(_) => {}
            }
        }
        if buf.len() > total {
            return Read::Other;
        }
        Read::Ours(head)
    }

    pub(super) async fn read_head(
        &self,
        stream: &mut TcpStream,
        buf: &mut Vec<u8>,
        peer: &PeerInfo,
    ) -> Read {
        loop {
            if buf.len() == buf.capacity() {
                if buf.len() >= self.head_limit {
                    return Read::Other;
                }
                buf.reserve_exact(buf.len().min(self.head_limit - buf.len()));
            }
            match stream.read_buf(buf).await {
                Ok(0) | Err(_) => return Read::Closed,
                Ok(_) => {}
            }
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(len)) => return self.classify(&req, len, peer),
                Ok(httparse::Status::Partial) => {}
                Err(_) => return Read::Other,
            }
        }
    }

    fn classify(&self, req: &httparse::Request<'_, '_>, len: usize, peer: &PeerInfo) -> Read {
        let options = match req.method {
            Some("POST") => false,
            Some("OPTIONS") => true,
            _ => return Read::Other,
        };
        let path = req.path.unwrap_or("");
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        let ours = path
            .strip_prefix(&*self.mount)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if req.version != Some(1) || !ours {
            return Read::Other;
        }
        let config = self.server.config();
        let forwarding = !config.forward_headers.is_empty();
        let mut head = Head {
            len,
            options,
            content_length: 0,
            form: false,
            origin: None,
            cors: Vec::new(),
            denied: false,
            browser: None,
            close: false,
            remote: peer.direct,
            headers: Forwarded::default(),
        };
        let (mut length, mut origin, mut host) = (None, None, None);
        let mut cookies = Vec::new();
        let mut hops = [""; MAX_FORWARDED_FOR];
        let mut n_hops = 0;
        for h in req.headers.iter() {
            // Only the headers looked at are decoded.
            let value = || std::str::from_utf8(h.value).unwrap_or("");
            let name = h.name;
            // (A request forwarded by another node goes to the general server, which
            // checks its secret.)
            if [
                "upgrade",
                "transfer-encoding",
                "expect",
                crate::cluster::FORWARD_HEADER,
            ]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
            {
                return Read::Other;
            } else if name.eq_ignore_ascii_case("content-length") {
                match (value().trim().parse::<usize>(), length) {
                    (Ok(n), None) => length = Some(n),
                    (Ok(n), Some(m)) if n == m => {}
                    _ => return Read::Other,
                }
            } else if name.eq_ignore_ascii_case("content-type") {
                head.form = is_form(value());
            } else if name.eq_ignore_ascii_case("origin") {
                origin = Some(value());
            } else if name.eq_ignore_ascii_case("host") {
                host = Some(value());
            } else if name.eq_ignore_ascii_case("cookie") {
                cookies.push(value());
            } else if name.eq_ignore_ascii_case("connection") {
                head.close |= value()
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("close"));
            } else if peer.trusted && name.eq_ignore_ascii_case("x-forwarded-for") {
                if n_hops == MAX_FORWARDED_FOR {
                    hops.rotate_left(1);
                    n_hops -= 1;
                }
                hops[n_hops] = value();
                n_hops += 1;
            }
            if forwarding && let Some(i) = self.server.forward_index(name) {
                head.headers.add(i, value());
            }
        }
        match (options, length) {
            (true, _) => {}
            (false, Some(n)) if n <= config.max_message_bytes => head.content_length = n,
            // No length (the general server answers 411) or too large (it answers 400).
            (false, _) => return Read::Other,
        }
        head.browser = browser_cookie(&self.server, cookies.into_iter());
        head.denied = !options && self.server.origin_denied(origin, host);
        if origin.is_some() {
            head.cors = self.server.cors(origin, host, options);
        }
        head.origin = origin.map(Box::from);
        if peer.trusted {
            let hops = hops[..n_hops].iter().copied();
            head.remote = config.trusted_proxies.resolve(peer.ip, hops);
        }
        Read::Ours(head)
    }
}
