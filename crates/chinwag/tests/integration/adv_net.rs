//! Raw-socket tools for the adversarial tests: connections from a chosen loopback source
//! address, reading whatever a server sends until it closes (telling a clean close from a
//! reset and from silence), and taking an HTTP/1.1 response apart.

#![allow(dead_code, unreachable_pub)]

use crate::common::R;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

/// A connection to `addr` whose source address is `src` (any of 127.0.0.0/8 on Linux).
pub async fn connect_from(src: &str, addr: &str) -> R<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{src}:0").parse::<SocketAddr>()?)?;
    Ok(socket.connect(addr.parse()?).await?)
}

/// How reading a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The server closed it (FIN).
    Closed,
    /// The connection was reset (or another read error), with the error's text.
    Reset(String),
    /// Still open when the wait ran out.
    Open,
}

/// Reads everything until the server closes, the connection fails, or `deadline`.
pub async fn read_until_end(s: &mut TcpStream, deadline: Instant) -> (Vec<u8>, End) {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return (got, End::Open),
            Ok(Ok(0)) => return (got, End::Closed),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => return (got, End::Reset(e.to_string())),
        }
    }
}

/// `deadline` `secs` from now.
pub fn within(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

/// An HTTP/1.1 response taken apart.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// Parses one response (the body is what follows the head, up to `content-length`).
    pub fn parse(bytes: &[u8]) -> R<Self> {
        let at = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| format!("no response head in {:?}", String::from_utf8_lossy(bytes)))?;
        let head = std::str::from_utf8(&bytes[..at])?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|r| r.get(..3))
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let mut body = bytes[at + 4..].to_vec();
        let length = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok());
        if let Some(n) = length {
            if body.len() < n {
                return Err(format!("body cut short: {} of {n} bytes", body.len()).into());
            }
            body.truncate(n);
        }
        Ok(Self {
            status,
            headers,
            body,
        })
    }

    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> R<Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }
}

/// Sends `request` on a fresh connection and reads until the server closes (at most
/// `secs`): the response and how the connection ended.
pub async fn exchange(addr: &str, request: &[u8], secs: u64) -> R<(Response, End)> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(request).await?;
    let (got, end) = read_until_end(&mut s, within(secs)).await;
    Ok((Response::parse(&got)?, end))
}

/// A `POST` request head with `content-length: length` and the given extra header lines
/// (each ending in `\r\n`).
pub fn post_head(path: &str, ctype: &str, length: usize, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: {ctype}\r\n\
         content-length: {length}\r\n{extra}\r\n"
    )
}

/// Checks a GMS error envelope (`statusCode: 2`, one error) and returns its code.
pub fn gms_code(v: &Value) -> R<u64> {
    assert_eq!(v["statusCode"], 2, "{v}");
    assert!(v["referenceId"].is_string(), "{v}");
    assert!(
        v["errors"][0]["advice"]
            .as_str()
            .is_some_and(|a| !a.is_empty()),
        "{v}"
    );
    v["errors"][0]["code"]
        .as_u64()
        .ok_or_else(|| format!("no error code in {v}").into())
}

/// Reads one response (head and `content-length` body) off a connection kept open.
pub async fn read_response(s: &mut TcpStream, deadline: Instant) -> R<Response> {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Ok(r) = Response::parse(&got) {
            return Ok(r);
        }
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return Err(format!("no whole response in time: {got:?}").into()),
            Ok(Ok(0)) => return Response::parse(&got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => return Err(format!("{e} after {got:?}").into()),
        }
    }
}

/// `GET /health` on a connection kept open; the status.
pub async fn health_on(s: &mut TcpStream, extra: &str) -> R<u16> {
    s.write_all(format!("GET /health HTTP/1.1\r\nhost: x\r\n{extra}\r\n").as_bytes())
        .await?;
    Ok(read_response(s, within(10)).await?.status)
}
