//! [`PartHeadsBody`]: a `multipart/form-data` request body whose preamble and part header
//! sections are held to a limit. The multipart parser keeps each of those whole in memory
//! until it ends (a part's data it hands on as it arrives), so without this a client could
//! make the server hold a file-sized "header" per connection on the upload routes, whose
//! bodies may be as large as a file. The body fails with [`PartHeadsTooLarge`] at the first
//! byte past the limit. It also hands on one frame per poll (below); nothing else about the
//! body is checked or changed.

use axum::body::Body;
use axum::extract::Request;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The error of a preamble or part header section longer than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartHeadsTooLarge;

impl fmt::Display for PartHeadsTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("multipart part headers too large")
    }
}

impl std::error::Error for PartHeadsTooLarge {}

/// Whether `err` (from reading a multipart body) is [`PartHeadsTooLarge`].
pub fn is_part_heads_too_large(err: &(dyn std::error::Error + 'static)) -> bool {
    crate::deadline::caused_by::<PartHeadsTooLarge>(err)
}

/// `req` with its body held to `limit` bytes of preamble and of each part's headers, if it
/// is multipart with a boundary (else unchanged: the parser refuses it anyway).
pub fn limit_part_heads(req: Request, limit: usize) -> Request {
    let boundary = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok());
    match boundary {
        Some(b) => req.map(|body| Body::new(PartHeadsBody::new(body, &b, limit))),
        None => req,
    }
}

/// What the scan looks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seek {
    /// The first delimiter (bytes counted: the preamble).
    Preamble,
    /// The two bytes after a delimiter: `--` ends the body.
    AfterDelimiter,
    /// The blank line ending a part's headers (bytes counted).
    HeadersEnd,
    /// The next delimiter (a part's data, not counted).
    Data,
    /// Nothing: the closing delimiter was seen.
    Done,
}

/// A multipart body whose preamble and part headers are bounded.
pub struct PartHeadsBody {
    inner: Body,
    /// `CRLF--boundary`.
    delimiter: Vec<u8>,
    seek: Seek,
    /// Bytes of the current counted section so far.
    counted: usize,
    /// The stream's last bytes not scanned to the end (a pattern may start in them).
    carry: Vec<u8>,
    limit: usize,
    failed: bool,
    /// A frame was just handed on: the next poll yields (see [`PartHeadsBody`]'s `poll_frame`).
    handed: bool,
}

impl PartHeadsBody {
    /// `inner`, a multipart body with `boundary`, its heads held to `limit` bytes.
    pub fn new(inner: Body, boundary: &str, limit: usize) -> Self {
        Self {
            inner,
            delimiter: [b"\r\n--", boundary.as_bytes()].concat(),
            seek: Seek::Preamble,
            counted: 0,
            // A body may open with its delimiter, without the CRLF before it.
            carry: b"\r\n".to_vec(),
            limit,
            failed: false,
            handed: false,
        }
    }

    /// Follows `chunk` through the body's structure; an error once a head is too long.
    ///
    /// Only the few bytes a pattern may span across chunks are ever copied: the carried
    /// tail of the last chunk is joined to the head of this one, and the rest of the chunk
    /// is scanned where it lies.
    fn scan(&mut self, chunk: &[u8]) -> Result<(), PartHeadsTooLarge> {
        let mut rest = chunk;
        if !self.carry.is_empty() {
            let carried = self.carry.len();
            // Enough of the chunk to finish any pattern begun in the carry (the delimiter is
            // the longest), and the two bytes after a delimiter.
            let k = chunk.len().min(self.delimiter.len() + 2);
            let mut join = std::mem::take(&mut self.carry);
            join.extend_from_slice(&chunk[..k]);
            let left = self.run(&join)?;
            if k == chunk.len() {
                self.carry = join[left..].to_vec();
                return Ok(());
            }
            // What waits is at most a pattern's length less one (or a byte after a
            // delimiter), so with `k` bytes joined it lies in the chunk: go on from there.
            rest = &chunk[left.saturating_sub(carried)..];
        }
        let left = self.run(rest)?;
        self.carry = rest[left..].to_vec();
        Ok(())
    }

    /// Runs the scan over `hay`: where the bytes that must wait for the next chunk begin
    /// (`hay.len()` when none must).
    fn run(&mut self, hay: &[u8]) -> Result<usize, PartHeadsTooLarge> {
        let mut at = 0;
        loop {
            let pattern: &[u8] = match self.seek {
                Seek::Done => return Ok(hay.len()),
                Seek::AfterDelimiter => {
                    if hay.len() - at < 2 {
                        return Ok(at);
                    }
                    self.seek = if &hay[at..at + 2] == b"--" {
                        Seek::Done
                    } else {
                        Seek::HeadersEnd
                    };
                    self.counted = 0;
                    continue;
                }
                Seek::Preamble | Seek::Data => &self.delimiter,
                Seek::HeadersEnd => b"\r\n\r\n",
            };
            let counts = matches!(self.seek, Seek::Preamble | Seek::HeadersEnd);
            let found = find(&hay[at..], pattern);
            let end = match found {
                Some(i) => at + i,
                None => hay.len().saturating_sub(pattern.len() - 1).max(at),
            };
            if counts {
                self.counted = self.counted.saturating_add(end - at);
                if self.counted > self.limit {
                    return Err(PartHeadsTooLarge);
                }
            }
            match found {
                Some(_) => {
                    at = end + pattern.len();
                    self.seek = match self.seek {
                        Seek::HeadersEnd => Seek::Data,
                        _ => Seek::AfterDelimiter,
                    };
                }
                None => return Ok(end),
            }
        }
    }
}

/// The first position of `needle` in `hay` (vectorised: this runs over every byte of an
/// upload).
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

impl http_body::Body for PartHeadsBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.failed {
            return Poll::Ready(Some(Err(axum::Error::new(PartHeadsTooLarge))));
        }
        // The multipart parser takes every frame that is ready before it parses any, so with
        // a fast client it would read (and hold) far ahead of the part's reader, and meet the
        // body's overall limit before the reader meets the file's. One frame per poll, then
        // a yield (woken at once), keeps it at most a frame ahead.
        if std::mem::take(&mut self.handed) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        if let Some(data) = frame.data_ref()
            && let Err(e) = self.scan(data)
        {
            self.failed = true;
            return Poll::Ready(Some(Err(axum::Error::new(e))));
        }
        self.handed = true;
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
#[path = "part_heads_tests.rs"]
mod tests;
