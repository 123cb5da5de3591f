//! The clamd scanner: streams the file to a ClamAV daemon over its Unix or TCP socket with
//! clamd's `INSTREAM` command and reads its one-line verdict.
//!
//! The exchange, on a fresh connection per file: `zINSTREAM\0`, then the file in chunks of
//! at most [`CHUNK_MAX`] bytes, each after its length as 4 bytes big-endian, then a chunk
//! of length 0 to end it. clamd answers one `\0`-terminated line: `stream: OK` (clean),
//! `stream: <signature> FOUND` (rejected, the signature is the reason), or an error (`...
//! ERROR`, e.g. `INSTREAM size limit exceeded. ERROR` past its `StreamMaxLength`), which
//! is a [`ScanError`] like a connection failure, a reply longer than [`REPLY_MAX`] bytes or
//! the timeout, which bounds the whole exchange.

use crate::text::bounded;
use async_trait::async_trait;
use chinwag_core::ports::{ByteStream, FileScanner, ScanError, ScanVerdict};
use futures_util::StreamExt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::{TcpStream, UnixStream};

/// The largest chunk sent in one piece (clamd's own clients use a few KiB to 64 KiB).
const CHUNK_MAX: usize = 64 * 1024;
/// The longest reply read; clamd's are one short line.
const REPLY_MAX: usize = 1024;

/// Where clamd listens.
#[derive(Debug, Clone)]
enum Endpoint {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

/// Scans a file by streaming it to clamd.
#[derive(Debug, Clone)]
pub struct ClamdScanner {
    endpoint: Endpoint,
    timeout: Duration,
}

impl ClamdScanner {
    /// A scanner talking to clamd's Unix socket (its `LocalSocket`) at `path`.
    pub fn unix(path: PathBuf, timeout: Duration) -> ClamdScanner {
        ClamdScanner {
            endpoint: Endpoint::Unix(path),
            timeout,
        }
    }

    /// A scanner talking to clamd's TCP socket (its `TCPSocket`/`TCPAddr`) at `addr`.
    pub fn tcp(addr: SocketAddr, timeout: Duration) -> ClamdScanner {
        ClamdScanner {
            endpoint: Endpoint::Tcp(addr),
            timeout,
        }
    }

    /// Connects and runs one `INSTREAM` exchange: clamd's reply line.
    async fn exchange(&self, body: ByteStream<'static>) -> Result<String, ScanError> {
        let connect_err = |e: io::Error| ScanError(format!("cannot reach clamd at {self}: {e}"));
        match &self.endpoint {
            Endpoint::Unix(path) => {
                instream(UnixStream::connect(path).await.map_err(connect_err)?, body).await
            }
            Endpoint::Tcp(addr) => {
                instream(TcpStream::connect(addr).await.map_err(connect_err)?, body).await
            }
        }
    }
}

impl std::fmt::Display for ClamdScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.endpoint {
            Endpoint::Unix(path) => write!(f, "{}", path.display()),
            Endpoint::Tcp(addr) => write!(f, "{addr}"),
        }
    }
}

#[async_trait]
impl FileScanner for ClamdScanner {
    async fn scan(&self, body: ByteStream<'static>, _size: u64) -> Result<ScanVerdict, ScanError> {
        match tokio::time::timeout(self.timeout, self.exchange(body)).await {
            Ok(reply) => verdict(&reply?),
            Err(_) => Err(ScanError(format!(
                "clamd at {self} did not answer within {:?}",
                self.timeout
            ))),
        }
    }
}

/// Sends `body` as an `INSTREAM` and reads the reply. If clamd stops the upload early (its
/// size limit), the write fails; its reply, if it left one, is still read and reported.
async fn instream<S>(conn: S, body: ByteStream<'static>) -> Result<String, ScanError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut conn = BufWriter::with_capacity(CHUNK_MAX + 4, conn);
    let sent = send(&mut conn, body).await;
    if let Sent::Unreadable(e) = sent {
        // clamd would wait for the rest: give up at once.
        return Err(ScanError(format!("reading the file to scan: {e}")));
    }
    let reply = read_reply(conn.get_mut()).await;
    match (sent, reply) {
        (Sent::Whole, reply) => reply,
        // clamd cut the stream short and said why.
        (_, Ok(reply)) if !reply.is_empty() => Ok(reply),
        (Sent::Cut(e), _) => Err(ScanError(format!("streaming the file to clamd: {e}"))),
        (_, reply) => reply,
    }
}

/// How sending a file went.
enum Sent {
    /// All of it and the end mark.
    Whole,
    /// The file could not be read.
    Unreadable(io::Error),
    /// The connection failed (clamd may have closed it on purpose).
    Cut(io::Error),
}

/// Writes the `INSTREAM` command, `body` in length-prefixed chunks and the end mark (a
/// chunk of length 0).
async fn send(conn: &mut (impl AsyncWrite + Unpin), mut body: ByteStream<'static>) -> Sent {
    if let Err(e) = conn.write_all(b"zINSTREAM\0").await {
        return Sent::Cut(e);
    }
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => return Sent::Unreadable(e),
        };
        for piece in chunk.chunks(CHUNK_MAX) {
            if let Err(e) = write_chunk(conn, piece).await {
                return Sent::Cut(e);
            }
        }
    }
    match write_chunk(conn, &[]).await {
        Ok(()) => match conn.flush().await {
            Ok(()) => Sent::Whole,
            Err(e) => Sent::Cut(e),
        },
        Err(e) => Sent::Cut(e),
    }
}

/// Writes one chunk after its length (4 bytes, big-endian); `piece` is at most
/// [`CHUNK_MAX`] bytes, so the length fits.
async fn write_chunk(conn: &mut (impl AsyncWrite + Unpin), piece: &[u8]) -> io::Result<()> {
    conn.write_all(&(piece.len() as u32).to_be_bytes()).await?;
    conn.write_all(piece).await
}

/// Reads clamd's reply up to its `\0` (or the end of the connection), at most
/// [`REPLY_MAX`] bytes.
async fn read_reply(conn: &mut (impl AsyncRead + Unpin)) -> Result<String, ScanError> {
    let mut reply = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let n = conn
            .read(&mut buf)
            .await
            .map_err(|e| ScanError(format!("reading clamd's reply: {e}")))?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
        if let Some(end) = reply.iter().position(|&b| b == 0) {
            reply.truncate(end);
            break;
        }
        if reply.len() > REPLY_MAX {
            return Err(ScanError("clamd's reply is too long".into()));
        }
    }
    Ok(String::from_utf8_lossy(&reply).trim().to_owned())
}

/// What clamd's reply line means.
fn verdict(reply: &str) -> Result<ScanVerdict, ScanError> {
    let line = reply.strip_prefix("stream:").map(str::trim);
    match line {
        Some("OK") => Ok(ScanVerdict::Clean),
        Some(found) if found.ends_with(" FOUND") => {
            let signature = found.strip_suffix(" FOUND").unwrap_or(found).trim();
            Ok(ScanVerdict::Rejected(bounded(signature)))
        }
        _ if reply.is_empty() => Err(ScanError("clamd closed without a reply".into())),
        _ => Err(ScanError(format!("clamd: {}", bounded(reply)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_map_to_verdicts() {
        assert_eq!(verdict("stream: OK").ok(), Some(ScanVerdict::Clean));
        assert_eq!(
            verdict("stream: Eicar-Signature FOUND").ok(),
            Some(ScanVerdict::Rejected("Eicar-Signature".into()))
        );
        assert!(verdict("INSTREAM size limit exceeded. ERROR").is_err());
        assert!(verdict("stream: lstat() failed. ERROR").is_err());
        assert!(verdict("").is_err());
    }
}
