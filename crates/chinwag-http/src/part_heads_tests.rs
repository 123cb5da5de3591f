use super::*;

/// A multipart body of `parts` (name, headers padding, data) split into `step`-byte chunks.
fn body(parts: &[(&str, usize, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, pad, data) in parts {
        b.extend_from_slice(b"--B0UND\r\n");
        b.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes(),
        );
        if *pad > 0 {
            b.extend_from_slice(format!("X-Pad: {}\r\n", "a".repeat(*pad)).as_bytes());
        }
        b.extend_from_slice(b"\r\n");
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(b"--B0UND--\r\n");
    b
}

fn scan_all(bytes: &[u8], step: usize, limit: usize) -> Result<(), PartHeadsTooLarge> {
    let mut g = PartHeadsBody::new(Body::empty(), "B0UND", limit);
    for chunk in bytes.chunks(step) {
        g.scan(chunk)?;
    }
    Ok(())
}

#[test]
fn large_data_passes_whatever_the_chunking() {
    let data = vec![b'x'; 100_000];
    let b = body(&[("userId", 0, b"u"), ("file", 0, &data), ("z", 0, b"")]);
    for step in [1, 2, 3, 7, 64, 4096, b.len()] {
        assert_eq!(scan_all(&b, step, 200), Ok(()), "step {step}");
    }
}

#[test]
fn a_long_header_section_or_preamble_fails_whatever_the_chunking() {
    let b = body(&[("userId", 0, b"u"), ("file", 300, b"x")]);
    let mut pre = vec![b'p'; 300];
    pre.extend_from_slice(&body(&[("a", 0, b"x")]));
    for step in [1, 5, 64, b.len()] {
        assert_eq!(
            scan_all(&b, step, 200),
            Err(PartHeadsTooLarge),
            "step {step}"
        );
        assert_eq!(scan_all(&b, step, 400), Ok(()), "step {step}");
        assert_eq!(
            scan_all(&pre, step, 200),
            Err(PartHeadsTooLarge),
            "step {step}"
        );
    }
}

#[test]
fn an_unterminated_header_fails_and_the_epilogue_is_not_counted() {
    let mut b = b"--B0UND\r\nContent-Disposition: form-data; name=\"a\"\r\n".to_vec();
    b.extend_from_slice(&vec![b'h'; 500]);
    assert_eq!(scan_all(&b, 10, 200), Err(PartHeadsTooLarge));
    let mut e = body(&[("a", 0, b"x")]);
    e.extend_from_slice(&vec![b'e'; 500]);
    assert_eq!(scan_all(&e, 10, 200), Ok(()));
}

#[test]
fn the_limit_that_passes_does_not_depend_on_the_chunking() {
    // Heads of several lengths, data holding near-delimiters, so that patterns straddle
    // chunk edges at every step: the smallest limit that passes must be the same as for
    // the body in one piece.
    let near = b"\r\n--B0UN\r\n--B0UNX\r\n\r".repeat(40);
    let mut pre = b"preamble\r\n".repeat(3);
    pre.extend_from_slice(&body(&[
        ("userId", 17, b"u"),
        ("file", 61, &near),
        ("z", 3, b""),
        ("w", 90, &near),
    ]));
    let threshold = |step: usize| (0..400).find(|&l| scan_all(&pre, step, l).is_ok());
    let whole = threshold(pre.len()).unwrap_or_else(|| panic!("no limit under 400 passes"));
    assert!(whole > 90, "the longest head counts: {whole}");
    for step in (1..=48).chain([97, 256, 1000]) {
        assert_eq!(threshold(step), Some(whole), "step {step}");
    }
}

/// Counts its wake-ups.
struct Wakes(std::sync::atomic::AtomicUsize);

impl std::task::Wake for Wakes {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn hands_on_one_frame_per_poll_and_wakes_itself_in_between() {
    use http_body::Body as _;
    let bytes = body(&[("a", 0, b"x")]);
    let (first, second) = bytes.split_at(10);
    let frames = vec![
        Ok::<_, std::io::Error>(Bytes::copy_from_slice(first)),
        Ok(Bytes::copy_from_slice(second)),
    ];
    let inner = Body::from_stream(ready_stream(frames));
    let mut g = std::pin::pin!(PartHeadsBody::new(inner, "B0UND", 200));
    let wakes = std::sync::Arc::new(Wakes(std::sync::atomic::AtomicUsize::new(0)));
    let waker = std::task::Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let data = |p: Poll<Option<Result<Frame<Bytes>, axum::Error>>>| match p {
        Poll::Ready(Some(Ok(f))) => f.into_data().ok(),
        _ => None,
    };
    assert_eq!(data(g.as_mut().poll_frame(&mut cx)).as_deref(), Some(first));
    assert!(
        g.as_mut().poll_frame(&mut cx).is_pending(),
        "yields after a frame"
    );
    assert_eq!(wakes.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(
        data(g.as_mut().poll_frame(&mut cx)).as_deref(),
        Some(second)
    );
}

/// A stream of `items`, ready one after the other.
fn ready_stream<T: Unpin + Send + 'static>(
    items: Vec<T>,
) -> impl futures_core::Stream<Item = T> + Send + 'static {
    struct Iter<T>(std::collections::VecDeque<T>);
    impl<T: Unpin> futures_core::Stream for Iter<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<T>> {
            Poll::Ready(self.0.pop_front())
        }
    }
    Iter(items.into())
}
