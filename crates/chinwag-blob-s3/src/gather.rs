//! Gathering an upload's small chunks before they are kept. A client may send its body in
//! tiny HTTP chunks, and each arrives as its own `Bytes` (a slice of the connection's read
//! buffer, keeping all of that buffer alive). Held by the thousand until a 5 MiB part is
//! full, they would cost far more memory than their bytes: so chunks under [`SMALL`] are
//! copied together into one buffer, and larger ones pass through untouched.

use bytes::{Bytes, BytesMut};
use chinwag_core::ports::ByteStream;
use futures_util::StreamExt;

/// Chunks smaller than this are copied together until they make one this large.
pub(crate) const SMALL: usize = 16 * 1024;

/// `body` with its small chunks gathered: a chunk it yields is at least [`SMALL`] bytes long
/// unless it is the last, or the next one is (what was gathered before a large chunk goes
/// first), or the body has passed `cap` bytes (then each chunk goes on at once, so the store
/// refuses the body at the chunk that passed its cap). So there are at most two per
/// [`SMALL`] bytes. An error ends it (what was gathered is dropped).
pub(crate) fn gathered(body: ByteStream<'_>, cap: u64) -> ByteStream<'_> {
    let state = (body, BytesMut::new(), None::<Bytes>, false, 0u64);
    Box::pin(futures_util::stream::unfold(
        state,
        move |(mut body, mut pending, held, ended, mut seen)| async move {
            if let Some(big) = held {
                return Some((Ok(big), (body, pending, None, ended, seen)));
            }
            if ended {
                return None;
            }
            loop {
                let next = body.next().await;
                if let Some(Ok(c)) = &next {
                    seen = seen.saturating_add(c.len() as u64);
                }
                match next {
                    Some(Ok(c)) if c.len() >= SMALL => {
                        if pending.is_empty() {
                            return Some((Ok(c), (body, pending, None, false, seen)));
                        }
                        let out = pending.split().freeze();
                        return Some((Ok(out), (body, pending, Some(c), false, seen)));
                    }
                    Some(Ok(c)) => {
                        pending.extend_from_slice(&c);
                        if pending.len() >= SMALL || seen > cap {
                            let out = pending.split().freeze();
                            return Some((Ok(out), (body, pending, None, false, seen)));
                        }
                    }
                    Some(Err(e)) => {
                        return Some((Err(e), (body, BytesMut::new(), None, true, seen)));
                    }
                    None if pending.is_empty() => return None,
                    None => {
                        let out = pending.split().freeze();
                        return Some((Ok(out), (body, pending, None, true, seen)));
                    }
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(chunks: Vec<std::io::Result<Bytes>>, cap: u64) -> Vec<std::io::Result<Bytes>> {
        let body: ByteStream<'static> = Box::pin(futures_util::stream::iter(chunks));
        gathered(body, cap).collect().await
    }

    #[tokio::test]
    async fn past_the_cap_each_chunk_goes_on_at_once() {
        let tiny = |n: usize| {
            (0..n)
                .map(|_| Ok(Bytes::from_static(b"x")))
                .collect::<Vec<_>>()
        };
        let out = collect(tiny(10), 7).await;
        let lens: Vec<usize> = out.iter().flatten().map(Bytes::len).collect();
        assert_eq!(lens, [8, 1, 1]);
    }

    #[tokio::test]
    async fn tiny_chunks_are_gathered_and_large_ones_pass_untouched() {
        let big = Bytes::from(vec![9u8; SMALL + 1]);
        let mut input: Vec<Bytes> = (0..40_000u32).map(|i| Bytes::from(vec![i as u8])).collect();
        input.push(big.clone());
        input.extend((0..5).map(|i| Bytes::from(vec![i; 10])));
        let want: Vec<u8> = input.iter().flat_map(|b| b.to_vec()).collect();
        let out: Vec<Bytes> = collect(input.into_iter().map(Ok).collect(), u64::MAX)
            .await
            .into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        assert_eq!(
            out.iter().flat_map(|b| b.to_vec()).collect::<Vec<u8>>(),
            want
        );
        let lens: Vec<usize> = out.iter().map(Bytes::len).collect();
        assert_eq!(lens, [SMALL, SMALL, 40_000 - 2 * SMALL, SMALL + 1, 50]);
        assert_eq!(out[3].as_ptr(), big.as_ptr(), "the large chunk was copied");
    }

    #[tokio::test]
    async fn an_error_ends_the_stream() {
        let out = collect(
            vec![
                Ok(Bytes::from_static(b"ab")),
                Err(std::io::Error::other("cut")),
                Ok(Bytes::from_static(b"cd")),
            ],
            u64::MAX,
        )
        .await;
        assert_eq!(out.len(), 1);
        assert!(out[0].is_err());
    }
}
