//! [`Multipart`]: a streaming `multipart/form-data` reader that hands a part's data on as
//! the slices of the request's own frames it arrived in, copying none of it. Only a frame's
//! last few bytes that might begin the next boundary are held back (and copied) until the
//! next frame shows whether they do. The preamble and each part's header section are held to
//! a limit given by the caller, and read in at most one copy each; nothing is read ahead of
//! what the caller asks for, so a route's body limit is met only by the part being read.
//!
//! The body is taken through the route's `DefaultBodyLimit` ([`Multipart::from_request`]);
//! its errors are sorted once into [`MultipartError`].

mod error;
mod head;

pub use error::{MultipartError, NotMultipart};
pub use head::Part;

use axum::RequestExt;
use axum::body::Body;
use axum::extract::Request;
use bytes::{Buf, Bytes, BytesMut};
use http_body::Body as _;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Where the reader is in the body.
#[derive(Debug)]
enum State {
    /// Before the first boundary.
    Preamble,
    /// Just past a boundary: the end (`--`) or a part's header section comes next.
    Head,
    /// In a part's data.
    Data,
    /// Past the closing boundary.
    Done,
    /// Failed: every call answers this.
    Failed(MultipartError),
}

/// What a step of the reader between parts found.
enum Step {
    /// A part begins.
    Part(Part),
    /// The state moved on: look again.
    Again,
    /// The bytes so far do not say: read more.
    More,
}

/// A `multipart/form-data` body being read part by part.
pub struct Multipart {
    body: Body,
    /// The search for `CRLF--boundary` (its `needle()`), built once: it runs over every byte
    /// of a body. CR appears in the delimiter only first (the boundary is printable).
    finder: memchr::memmem::Finder<'static>,
    /// Bytes the preamble, or a part's header section, may have.
    limit: usize,
    state: State,
    /// Between parts: bytes gathered across frames (then `cur` is empty).
    ctl: BytesMut,
    /// What is left of the last frame.
    cur: Bytes,
    /// In a part's data: a frame's tail that begins the delimiter (it goes before `cur`).
    carry: BytesMut,
    /// Between parts: how far the gathered bytes were searched already.
    seen: usize,
}

impl Multipart {
    /// Reads `req`'s body, within the route's body limit, as `multipart/form-data`, its
    /// preamble and each part's headers held to `head_limit` bytes.
    pub fn from_request(req: Request, head_limit: usize) -> Result<Self, NotMultipart> {
        let ct = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .ok_or(NotMultipart("the content type is not multipart/form-data"))?
            .to_owned();
        Self::new(req.with_limited_body().into_body(), &ct, head_limit)
    }

    /// Reads `body`, of type `content_type`, as `multipart/form-data`.
    pub fn new(body: Body, content_type: &str, head_limit: usize) -> Result<Self, NotMultipart> {
        let boundary = head::boundary(content_type)?;
        let delimiter = [b"\r\n--", boundary.as_bytes()].concat();
        Ok(Self {
            body,
            finder: memchr::memmem::Finder::new(&delimiter).into_owned(),
            limit: head_limit,
            state: State::Preamble,
            // A body may open with its boundary, without the CRLF before it.
            ctl: BytesMut::from(&b"\r\n"[..]),
            cur: Bytes::new(),
            carry: BytesMut::new(),
            seen: 0,
        })
    }

    /// The next part's headers (the rest of the current part is read and dropped), or `None`
    /// past the closing boundary.
    pub async fn next_part(&mut self) -> Result<Option<Part>, MultipartError> {
        std::future::poll_fn(|cx| self.poll_next_part(cx)).await
    }

    /// The next piece of the current part's data, or `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, MultipartError> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// The rest of the current part's data as a stream.
    pub fn data(
        &mut self,
    ) -> impl futures_util::Stream<Item = Result<Bytes, MultipartError>> + Send + '_ {
        futures_util::stream::poll_fn(|cx| self.poll_chunk(cx).map(Result::transpose))
    }

    /// See [`Multipart::next_part`].
    pub fn poll_next_part(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Part>, MultipartError>> {
        loop {
            let step = match &self.state {
                State::Done => return Poll::Ready(Ok(None)),
                State::Failed(e) => return Poll::Ready(Err(e.clone())),
                State::Data => {
                    ready!(self.poll_chunk(cx))?;
                    continue;
                }
                State::Preamble => self.preamble(),
                State::Head => self.head(),
            };
            match step {
                Ok(Step::Part(p)) => return Poll::Ready(Ok(Some(p))),
                Ok(Step::Again) => {}
                Ok(Step::More) => match ready!(self.poll_more(cx)) {
                    Ok(Some(data)) if self.opens_with_boundary(&data) => {
                        // The usual start, read where it lies.
                        self.ctl.clear();
                        self.cur = data.slice(self.finder.needle().len() - 2..);
                        self.state = State::Head;
                    }
                    Ok(Some(data)) => {
                        if self.ctl.is_empty() {
                            self.ctl.extend_from_slice(&std::mem::take(&mut self.cur));
                        }
                        self.ctl.extend_from_slice(&data);
                    }
                    Ok(None) => return Poll::Ready(Err(self.fail(ended()))),
                    Err(e) => return Poll::Ready(Err(self.fail(e))),
                },
                Err(e) => return Poll::Ready(Err(self.fail(e))),
            }
        }
    }

    /// See [`Multipart::chunk`].
    pub fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Bytes>, MultipartError>> {
        loop {
            match &self.state {
                State::Data => {}
                State::Failed(e) => return Poll::Ready(Err(e.clone())),
                _ => return Poll::Ready(Ok(None)),
            }
            if self.cur.is_empty() {
                match ready!(self.poll_more(cx)) {
                    Ok(Some(data)) => self.cur = data,
                    Ok(None) => return Poll::Ready(Err(self.fail(ended()))),
                    Err(e) => return Poll::Ready(Err(self.fail(e))),
                }
                continue;
            }
            let d = self.finder.needle();
            if !self.carry.is_empty() {
                // The carry is a proper prefix of the delimiter: does the frame finish it?
                let have = self.carry.len();
                let n = (d.len() - have).min(self.cur.len());
                if self.cur[..n] != d[have..have + n] {
                    return Poll::Ready(Ok(Some(self.carry.split().freeze())));
                }
                self.cur.advance(n);
                if have + n < d.len() {
                    self.carry.extend_from_slice(&d[have..have + n]);
                    continue;
                }
                self.carry.clear();
                self.end_data();
                return Poll::Ready(Ok(None));
            }
            if let Some(i) = self.finder.find(&self.cur) {
                let data = self.cur.split_to(i);
                self.cur.advance(d.len());
                self.end_data();
                return Poll::Ready(Ok((!data.is_empty()).then_some(data)));
            }
            let keep = held_back(&self.cur, d);
            let data = self.cur.split_to(self.cur.len() - keep);
            self.carry.extend_from_slice(&std::mem::take(&mut self.cur));
            if !data.is_empty() {
                return Poll::Ready(Ok(Some(data)));
            }
        }
    }

    /// Whether `data`, the body's first frame, opens with the boundary.
    fn opens_with_boundary(&self, data: &[u8]) -> bool {
        matches!(self.state, State::Preamble)
            && self.ctl[..] == b"\r\n"[..]
            && data.starts_with(&self.finder.needle()[2..])
    }

    /// The bytes gathered between parts.
    fn gathered(&self) -> &[u8] {
        if self.ctl.is_empty() {
            &self.cur
        } else {
            &self.ctl
        }
    }

    /// Drops the first `n` gathered bytes; what follows becomes `cur`.
    fn consume(&mut self, n: usize) {
        if self.ctl.is_empty() {
            self.cur.advance(n);
        } else {
            self.ctl.advance(n);
            self.cur = self.ctl.split().freeze();
        }
        self.seen = 0;
    }

    /// Looks for the first boundary.
    fn preamble(&mut self) -> Result<Step, MultipartError> {
        let d = self.finder.needle();
        let hay = self.gathered();
        let from = self.seen.saturating_sub(d.len() - 1);
        // The preamble is counted without the CRLF put before the body.
        match self.finder.find(&hay[from..]) {
            Some(i) if from + i <= self.limit.saturating_add(2) => {
                let n = from + i + d.len();
                self.consume(n);
                self.state = State::Head;
                Ok(Step::Again)
            }
            None if hay.len().saturating_sub(d.len() - 1) <= self.limit.saturating_add(2) => {
                self.seen = hay.len();
                Ok(Step::More)
            }
            _ => Err(MultipartError::HeadsTooLarge),
        }
    }

    /// Past a boundary: the end, or a part's header section.
    fn head(&mut self) -> Result<Step, MultipartError> {
        let hay = self.gathered();
        if hay.len() < 2 {
            return Ok(Step::More);
        }
        if hay.starts_with(b"--") {
            // The epilogue, if any, is not read.
            self.state = State::Done;
            self.ctl = BytesMut::new();
            self.cur = Bytes::new();
            return Ok(Step::Again);
        }
        let from = self.seen.saturating_sub(3);
        match memchr::memmem::find(&hay[from..], b"\r\n\r\n") {
            Some(i) if from + i <= self.limit => {
                let part = head::part(&hay[..from + i])?;
                self.consume(from + i + 4);
                self.state = State::Data;
                Ok(Step::Part(part))
            }
            None if hay.len().saturating_sub(3) <= self.limit => {
                self.seen = hay.len();
                Ok(Step::More)
            }
            _ => Err(MultipartError::HeadsTooLarge),
        }
    }

    /// A part's data ended at a delimiter: what follows is read as a head.
    fn end_data(&mut self) {
        self.state = State::Head;
        self.seen = 0;
    }

    /// Fails for good with `e`, letting go of what was held.
    fn fail(&mut self, e: MultipartError) -> MultipartError {
        self.state = State::Failed(e.clone());
        self.ctl = BytesMut::new();
        self.cur = Bytes::new();
        self.carry = BytesMut::new();
        e
    }

    /// The next non-empty data frame of the body, or `None` at its end.
    fn poll_more(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, MultipartError>> {
        loop {
            let frame = match ready!(Pin::new(&mut self.body).poll_frame(cx)) {
                None => return Poll::Ready(Ok(None)),
                Some(Err(e)) => return Poll::Ready(Err(MultipartError::of_body(e))),
                Some(Ok(frame)) => frame,
            };
            if let Ok(data) = frame.into_data()
                && !data.is_empty()
            {
                return Poll::Ready(Ok(Some(data)));
            }
        }
    }
}

/// The error of a body that ends before its closing boundary.
fn ended() -> MultipartError {
    MultipartError::Malformed("malformed multipart body: it ends before its closing boundary")
}

/// How many of `hay`'s last bytes begin `delimiter` (they might go on in the next frame).
fn held_back(hay: &[u8], delimiter: &[u8]) -> usize {
    let from = hay.len().saturating_sub(delimiter.len() - 1);
    memchr::memchr_iter(b'\r', &hay[from..])
        .map(|j| &hay[from + j..])
        .find(|tail| delimiter.starts_with(tail))
        .map_or(0, <[u8]>::len)
}

#[cfg(test)]
mod tests;
