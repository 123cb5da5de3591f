//! [`DeadlineBody`]: a request body that must arrive whole before a deadline. A body that
//! stalls (or trickles a byte at a time) then fails with [`BodyTimeout`] instead of holding
//! its connection and handler forever; handlers answer that with their own `408`.

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::fmt;
use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::time::{Instant, Sleep};

/// The error of a body that missed its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeout;

impl fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request body not received in time")
    }
}

impl std::error::Error for BodyTimeout {}

/// Whether `err` (from reading a body) is a missed deadline.
pub fn is_body_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    caused_by::<BodyTimeout>(err)
}

/// Whether `err` or any error in its chain of sources is an `E` (how a body's own error is
/// found again under the layers of errors that wrap it on its way to a handler).
pub fn caused_by<E: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut e: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cur) = e {
        if cur.is::<E>() {
            return true;
        }
        e = cur.source();
    }
    false
}

/// A body with a deadline for its last byte.
pub struct DeadlineBody {
    inner: Body,
    sleep: Pin<Box<Sleep>>,
}

impl DeadlineBody {
    /// `inner`, which must end before `deadline`.
    pub fn new(inner: Body, deadline: Instant) -> Self {
        Self {
            inner,
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
        }
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimeout)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A body that yields one chunk, then stays pending forever (a stalled client).
    struct Stalled(bool);

    impl http_body::Body for Stalled {
        type Data = Bytes;
        type Error = axum::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if std::mem::replace(&mut self.0, true) {
                Poll::Pending
            } else {
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"part")))))
            }
        }
    }

    #[tokio::test]
    async fn a_stalled_body_times_out_and_a_whole_one_does_not() {
        let soon = Instant::now() + Duration::from_millis(50);
        let stalled = DeadlineBody::new(Body::new(Stalled(false)), soon);
        let err = axum::body::to_bytes(Body::new(stalled), 1 << 20)
            .await
            .err()
            .map(|e| is_body_timeout(&e));
        assert_eq!(err, Some(true));
        let later = Instant::now() + Duration::from_secs(5);
        let whole = DeadlineBody::new(Body::from("all"), later);
        let bytes = axum::body::to_bytes(Body::new(whole), 1 << 20).await.ok();
        assert_eq!(bytes.as_deref(), Some(&b"all"[..]));
    }
}
