//! A bare HTTP/1.1 keep-alive client for the load generator's long-polling subscribers: one
//! request at a time, one reused buffer, bodies handed out as byte slices (`Content-Length`
//! or chunked). Like [`crate::rawws`], it keeps the generator much cheaper per delivered
//! message than the servers it measures (hyper's client costs a task hop and a channel per
//! request, which made the generator the bottleneck of the long-polling runs).

use memchr::memmem::Finder;
use std::io::Write as _;
use std::sync::LazyLock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An open keep-alive connection.
pub(crate) struct RawHttp {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
    body: Vec<u8>,
    req: Vec<u8>,
}

/// The end of a head, searched for once per response.
static HEAD_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\r\n\r\n"));

impl RawHttp {
    pub(crate) async fn connect(addr: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            host: addr.to_owned(),
            buf: Vec::with_capacity(4096),
            body: Vec::new(),
            req: Vec::with_capacity(512),
        })
    }

    /// POSTs a JSON `body` to `path`; returns the response body (any status).
    pub(crate) async fn post(&mut self, path: &str, body: &str) -> anyhow::Result<&[u8]> {
        self.req.clear();
        write!(
            self.req,
            "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        )?;
        self.stream.write_all(&self.req).await?;
        self.buf.clear();
        let head = loop {
            self.fill().await?;
            if let Some(i) = HEAD_END.find(&self.buf) {
                break i + 4;
            }
        };
        let (length, chunked) = framing(&self.buf[..head])?;
        if chunked {
            self.dechunk(head).await?;
            return Ok(&self.body);
        }
        while self.buf.len() < head + length {
            self.fill().await?;
        }
        Ok(&self.buf[head..head + length])
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(8192);
        }
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            anyhow::bail!("connection closed by the server");
        }
        Ok(())
    }

    /// Decodes a chunked body starting at `at` into `self.body`.
    async fn dechunk(&mut self, mut at: usize) -> anyhow::Result<()> {
        self.body.clear();
        loop {
            let line = loop {
                if let Some(i) = memchr::memmem::find(&self.buf[at..], b"\r\n") {
                    break i;
                }
                self.fill().await?;
            };
            let size = std::str::from_utf8(&self.buf[at..at + line])?;
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)?;
            at += line + 2;
            while self.buf.len() < at + size + 2 {
                self.fill().await?;
            }
            if size == 0 {
                return Ok(()); // no trailers from the servers measured
            }
            self.body.extend_from_slice(&self.buf[at..at + size]);
            at += size + 2;
        }
    }
}

/// The body framing of a response head: (content length, chunked).
pub(crate) fn framing(head: &[u8]) -> anyhow::Result<(usize, bool)> {
    let head = std::str::from_utf8(head)?;
    let mut length = 0;
    let mut chunked = false;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse()?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    Ok((length, chunked))
}
