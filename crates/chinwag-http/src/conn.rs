//! [`Conn`]: an accepted TCP connection with its place in the caps, read first from the bytes
//! a front already took off it, and closed the way nginx closes: the write side is shut, then
//! what the client still sends is read and thrown away for a bounded time and amount before
//! the socket is released. Without that, a client still sending a request body that was
//! refused (too large, say) gets a reset and may never read its `4xx`.

use crate::slots::Slot;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// How a closing connection lingers.
#[derive(Debug, Clone, Copy)]
pub struct Linger {
    /// Longest time spent reading after the response.
    pub time: Duration,
    /// Most bytes read and discarded.
    pub bytes: usize,
}

/// An accepted connection.
#[derive(Debug)]
pub struct Conn {
    head: Vec<u8>,
    at: usize,
    stream: Option<TcpStream>,
    slot: Option<Slot>,
    linger: Linger,
}

impl Conn {
    pub(crate) fn new(stream: TcpStream, slot: Slot, linger: Linger) -> Self {
        Self {
            head: Vec::new(),
            at: 0,
            stream: Some(stream),
            slot: Some(slot),
            linger,
        }
    }

    /// The socket, for a front that reads and writes it directly.
    pub fn stream(&mut self) -> &mut TcpStream {
        // Present until drop; `Option` only so that drop can move it out.
        self.stream.as_mut().unwrap_or_else(|| unreachable!())
    }

    /// Reads `head` (bytes already taken off the socket) before the socket itself.
    pub fn set_head(&mut self, head: Vec<u8>) {
        self.head = head;
        self.at = 0;
    }

    fn io(&mut self) -> io::Result<&mut TcpStream> {
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let (Some(stream), Ok(rt)) = (self.stream.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        rt.spawn(linger(stream, self.slot.take(), self.linger));
    }
}

/// Shuts the write side, then reads and drops until the client closes, the time or byte
/// budget runs out, or an error; the connection's place is given back after.
async fn linger(mut stream: TcpStream, slot: Option<Slot>, l: Linger) {
    let _ = stream.shutdown().await;
    let deadline = tokio::time::Instant::now() + l.time;
    let mut left = l.bytes;
    let mut buf = [0u8; 2048];
    while left > 0 {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
            _ => break,
        }
    }
    drop(slot);
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.head.len() {
            let n = buf.remaining().min(this.head.len() - this.at);
            buf.put_slice(&this.head[this.at..this.at + n]);
            this.at += n;
            if this.at == this.head.len() {
                this.head = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(this.io()?).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().io()?).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().io()?).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().io()?).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().io()?).poll_shutdown(cx)
    }
}
