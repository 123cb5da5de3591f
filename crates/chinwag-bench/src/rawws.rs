//! A bare WebSocket client for the load generator's subscribers: one reused read buffer, no
//! per-frame allocation, no UTF-8 check; frames are handed out as byte slices. The generator
//! must stay much cheaper per delivered message than the servers it measures.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An open client WebSocket.
pub(crate) struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Start of unconsumed bytes in `buf`.
    at: usize,
}

impl RawWs {
    /// Connects and upgrades `ws://{addr}{path}`.
    pub(crate) async fn connect(addr: &str, path: &str) -> anyhow::Result<Self> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let req = format!(
            "GET {path} HTTP/1.1\r\nhost: {addr}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await?;
        let mut buf = Vec::with_capacity(4096);
        let end = loop {
            if stream.read_buf(&mut buf).await? == 0 {
                anyhow::bail!("closed during the WebSocket upgrade");
            }
            if let Some(i) = memchr::memmem::find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
        };
        anyhow::ensure!(
            buf.starts_with(b"HTTP/1.1 101"),
            "upgrade refused: {}",
            String::from_utf8_lossy(&buf[..end])
        );
        Ok(Self {
            stream,
            buf,
            at: end,
        })
    }

    /// Sends one text frame (masked with a zero key, as the protocol allows).
    pub(crate) async fn send(&mut self, text: &str) -> anyhow::Result<()> {
        let len = text.len();
        let mut frame = Vec::with_capacity(len + 14);
        frame.push(0x81);
        if len < 126 {
            frame.push(0x80 | len as u8);
        } else if let Ok(l) = u16::try_from(len) {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&l.to_be_bytes());
        } else {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
        frame.extend_from_slice(&[0, 0, 0, 0]);
        frame.extend_from_slice(text.as_bytes());
        self.stream.write_all(&frame).await?;
        Ok(())
    }

    /// Waits for more bytes, then calls `each` with the payload of every complete data
    /// frame received. Errors when the server closes.
    pub(crate) async fn frames(&mut self, mut each: impl FnMut(&[u8])) -> anyhow::Result<()> {
        if self.at > 0 && self.at == self.buf.len() {
            self.buf.clear();
            self.at = 0;
        } else if self.at > self.buf.capacity() / 2 {
            self.buf.drain(..self.at);
            self.at = 0;
        }
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(4096);
        }
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            anyhow::bail!("WebSocket closed by the server");
        }
        while let Some((opcode, start, end)) = frame_at(&self.buf[self.at..]) {
            let payload = &self.buf[self.at + start..self.at + end];
            match opcode {
                0x8 => anyhow::bail!("WebSocket close frame"),
                0x0..=0x2 => each(payload),
                _ => {} // ping/pong: the servers measured do not require answers
            }
            self.at += end;
        }
        Ok(())
    }
}

/// A complete frame at the start of `b`: (opcode, payload start, payload end); a masked
/// frame's key is the 4 bytes before its payload.
pub(crate) fn frame_at(b: &[u8]) -> Option<(u8, usize, usize)> {
    if b.len() < 2 {
        return None;
    }
    let opcode = b[0] & 0x0f;
    let masked = b[1] & 0x80 != 0;
    let (len, mut start) = match b[1] & 0x7f {
        126 => (usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?])), 4),
        127 => {
            let bytes: [u8; 8] = b.get(2..10)?.try_into().ok()?;
            (usize::try_from(u64::from_be_bytes(bytes)).ok()?, 10)
        }
        n => (usize::from(n), 2),
    };
    if masked {
        start += 4; // servers never mask; tolerate it anyway by skipping the key
    }
    let end = start + len;
    (b.len() >= end).then_some((opcode, start, end))
}
