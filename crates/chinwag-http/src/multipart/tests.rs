//! The reader against bodies cut into frames every way, against `multer` (the parser it
//! replaced) on random bodies, and at its limits.

#![allow(clippy::expect_used)] // a test that cannot parse what it built has failed
use super::*;
use proptest::prelude::*;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const CT: &str = "multipart/form-data; boundary=XyZ";

/// A part as written: its header lines and data.
#[derive(Debug, Clone)]
struct Written {
    heads: Vec<String>,
    data: Vec<u8>,
}

fn encode(boundary: &str, parts: &[Written], preamble: &[u8]) -> Vec<u8> {
    let mut out = preamble.to_vec();
    for p in parts {
        if !out.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        for h in &p.heads {
            out.extend_from_slice(format!("{h}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&p.data);
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

fn field(name: &str, data: &[u8]) -> Written {
    Written {
        heads: vec![format!("Content-Disposition: form-data; name=\"{name}\"")],
        data: data.to_vec(),
    }
}

/// `bytes` as a body of frames cut at `cuts` (positions, any order).
fn framed(bytes: &[u8], cuts: &[usize]) -> Body {
    let mut at: Vec<usize> = cuts.iter().map(|&c| c.min(bytes.len())).collect();
    at.push(0);
    at.push(bytes.len());
    at.sort_unstable();
    at.dedup();
    let frames: Vec<io::Result<Bytes>> = at
        .windows(2)
        .map(|w| Ok(Bytes::copy_from_slice(&bytes[w[0]..w[1]])))
        .collect();
    Body::from_stream(futures_util::stream::iter(frames))
}

type Parsed = Vec<(Part, Vec<u8>)>;

async fn parse(body: Body, ct: &str, limit: usize) -> Result<Parsed, MultipartError> {
    let mut mp = Multipart::new(body, ct, limit).expect("a multipart content type");
    let mut out = Vec::new();
    while let Some(part) = mp.next_part().await? {
        let mut data = Vec::new();
        while let Some(c) = mp.chunk().await? {
            assert!(!c.is_empty(), "no empty chunks");
            data.extend_from_slice(&c);
        }
        out.push((part, data));
    }
    Ok(out)
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn every_cut(bytes: &[u8], limit: usize) -> Vec<Result<Parsed, String>> {
    (0..=bytes.len())
        .flat_map(|a| [vec![a], vec![a, a + 1, a + 3]])
        .map(|cuts| run(parse(framed(bytes, &cuts), CT, limit)).map_err(|e| e.to_string()))
        .collect()
}

#[test]
fn fields_and_a_file_read_the_same_however_the_body_is_cut() {
    let file = Written {
        heads: vec![
            "content-disposition: form-data; name=file; filename=\"a b.txt\"".into(),
            "Content-Type: text/plain".into(),
            "Content-Length: 14".into(),
        ],
        data: b"\r\n--XyY\r-\r\n--Xy".to_vec(),
    };
    let bytes = encode("XyZ", &[field("a", b"1"), field("b", b""), file], b"");
    let whole = run(parse(framed(&bytes, &[]), CT, 1024)).expect("parses");
    assert_eq!(whole.len(), 3);
    assert_eq!(whole[0].0.name.as_deref(), Some("a"));
    assert_eq!(whole[0].1, b"1");
    assert_eq!(whole[1].1, b"");
    let f = &whole[2].0;
    assert_eq!(f.name.as_deref(), Some("file"));
    assert_eq!(f.file_name.as_deref(), Some("a b.txt"));
    assert_eq!(f.content_type.as_deref(), Some("text/plain"));
    assert_eq!(f.content_length, Some(14));
    assert_eq!(whole[2].1, b"\r\n--XyY\r-\r\n--Xy");
    for r in every_cut(&bytes, 1024) {
        assert_eq!(r.as_ref(), Ok(&whole));
    }
}

#[test]
fn a_parts_data_is_handed_on_in_the_frames_own_memory() {
    let data = vec![7u8; 64 * 1024];
    let bytes = Bytes::from(encode(
        "XyZ",
        &[Written {
            heads: vec![],
            data,
        }],
        b"",
    ));
    let frame = bytes.clone();
    let body = Body::from_stream(futures_util::stream::iter([Ok::<_, io::Error>(frame)]));
    run(async {
        let mut mp = Multipart::new(body, CT, 64).expect("multipart");
        mp.next_part().await.expect("reads").expect("a part");
        let mut total = 0;
        while let Some(c) = mp.chunk().await.expect("reads") {
            let inside = bytes.as_ptr_range();
            assert!(inside.contains(&c.as_ptr()), "the data was copied");
            total += c.len();
        }
        assert_eq!(total, 64 * 1024);
    });
}

#[test]
fn heads_and_preamble_are_held_to_the_limit_however_the_body_is_cut() {
    // A header section (from the boundary's line end to the blank line) of 40 bytes.
    let head = "Content-Disposition: form-data; name=x";
    let bytes = encode(
        "XyZ",
        &[Written {
            heads: vec![head.into()],
            data: b"d".to_vec(),
        }],
        b"",
    );
    let section = 2 + head.len();
    assert!(every_cut(&bytes, section).iter().all(Result::is_ok));
    let over = every_cut(&bytes, section - 1);
    assert!(
        over.iter()
            .all(|r| r.as_ref().err().map(String::as_str)
                == Some("multipart part headers too large")),
        "{over:?}"
    );
    // A preamble of 10 bytes (and a part without headers).
    let bare = Written {
        heads: vec![],
        data: b"1".to_vec(),
    };
    let bytes = encode("XyZ", &[bare], b"0123456789");
    assert!(every_cut(&bytes, 10).iter().all(Result::is_ok));
    let small = every_cut(&bytes, 9);
    assert!(
        small
            .iter()
            .all(|r| r.as_ref().err().map(String::as_str)
                == Some("multipart part headers too large")),
        "{small:?}"
    );
}

#[test]
fn malformed_bodies_are_refused() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"--XyZ\r\nname: x\r\n\r\ndata",
            "ends before its closing boundary",
        ),
        (
            b"--XyZ\r\nno colon here\r\n\r\nd\r\n--XyZ--",
            "has no colon",
        ),
        (b"--XyZ junk\r\n\r\nd\r\n--XyZ--", "text after a boundary"),
        (b"just text", "ends before its closing boundary"),
        (b"", "ends before its closing boundary"),
        (b"--XyZ\r\nname: x", "ends before its closing boundary"),
    ];
    for (bytes, says) in cases {
        let e = run(parse(framed(bytes, &[3]), CT, 1024)).expect_err("refused");
        assert!(matches!(e, MultipartError::Malformed(_)), "{e:?}");
        assert!(e.to_string().contains(says), "{e} / {says}");
    }
    let ok = run(parse(framed(b"--XyZ  \t\r\n\r\nd\r\n--XyZ--", &[]), CT, 64))
        .expect("padding after a boundary");
    assert_eq!(ok[0].1, b"d");
}

#[test]
fn a_body_over_its_limit_is_too_large_and_the_error_stays() {
    let bytes = encode("XyZ", &[field("a", &[1; 100])], b"");
    let body = Body::new(http_body_util::Limited::new(framed(&bytes, &[60]), 80));
    run(async {
        let mut mp = Multipart::new(body, CT, 64).expect("multipart");
        mp.next_part()
            .await
            .expect("the head fits")
            .expect("a part");
        let mut e = None;
        while e.is_none() {
            match mp.chunk().await {
                Ok(Some(_)) => {}
                Ok(None) => panic!("the body ended whole"),
                Err(err) => e = Some(err),
            }
        }
        assert!(matches!(e, Some(MultipartError::TooLarge)), "{e:?}");
        assert!(matches!(
            mp.next_part().await,
            Err(MultipartError::TooLarge)
        ));
    });
}

#[test]
fn nothing_is_read_ahead_of_the_part_being_read() {
    let polled = Arc::new(AtomicUsize::new(0));
    let count = polled.clone();
    let frames = [
        &b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nfirst"[..],
        b" second",
        b"\r\n--XyZ--\r\n",
    ]
    .map(|f| Ok::<_, io::Error>(Bytes::from_static(f)));
    let stream = futures_util::stream::iter(frames).inspect(move |_| {
        count.fetch_add(1, Ordering::SeqCst);
    });
    run(async {
        let mut mp = Multipart::new(Body::from_stream(stream), CT, 64).expect("multipart");
        mp.next_part().await.expect("reads").expect("a part");
        assert_eq!(
            mp.chunk().await.expect("reads").as_deref(),
            Some(&b"first"[..])
        );
        assert_eq!(polled.load(Ordering::SeqCst), 1);
        assert_eq!(
            mp.chunk().await.expect("reads").as_deref(),
            Some(&b" second"[..])
        );
        assert_eq!(polled.load(Ordering::SeqCst), 2);
    });
}

use futures_util::StreamExt;

#[test]
fn content_types_and_dispositions() {
    assert_eq!(
        head::boundary("Multipart/Form-Data; charset=x; BOUNDARY=\"a b\""),
        Ok("a b".into())
    );
    for bad in [
        "multipart/mixed; boundary=x",
        "multipart/form-data",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=a\rb",
    ] {
        assert!(head::boundary(bad).is_err(), "{bad}");
    }
    assert!(
        head::boundary(&format!(
            "multipart/form-data; boundary={}",
            "b".repeat(201)
        ))
        .is_err()
    );
    // Quoted values: `\"` is a quote, any other backslash is kept (a Windows path).
    let p = head::part(
        br#"
Content-Disposition: form-data; filename="C:\dir\a.txt"; name="q%22n""#,
    )
    .expect("parses");
    assert_eq!(p.name.as_deref(), Some("q%22n"));
    assert_eq!(p.file_name.as_deref(), Some(r"C:\dir\a.txt"));
    let p = head::part(
        br#"
content-disposition: form-data; filename="a\"b;c\\.txt"; name="file""#,
    )
    .expect("parses");
    assert_eq!(p.file_name.as_deref(), Some(r#"a"b;c\\.txt"#));
    assert_eq!(p.name.as_deref(), Some("file"));
    let p = head::part(b"\r\nContent-Disposition: name=a; filename=b").expect("parses");
    assert_eq!(p.name.as_deref(), Some("a"));
    assert_eq!(p.file_name.as_deref(), Some("b"));
    let p = head::part(b"\r\ncontent-disposition: form-data; filename=\"x\"; filename*=UTF-8''%E2%82%AC%20rates.txt; name=f").expect("parses");
    assert_eq!(p.file_name.as_deref(), Some("\u{20ac} rates.txt"));
    assert_eq!(p.name.as_deref(), Some("f"));
    let p =
        head::part(b"\r\nContent-Disposition: form-data; filename*=UTF-8''%+1").expect("parses");
    assert_eq!(p.file_name, None);
    let many = format!("\r\n{}", vec!["X-A: 1"; 33].join("\r\n"));
    assert!(head::part(many.as_bytes()).is_err());
}

/// Data made mostly of the delimiter's own bytes, so that near-boundaries are common.
fn tricky_data() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"-".to_vec()),
            Just(b"--XyZ".to_vec()),
            Just(b"\r\n--Xy".to_vec()),
            Just(b"\r\n--XyZ-".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..40),
        ],
        0..12,
    )
    .prop_map(|v| v.concat())
    .prop_filter("no real delimiter", |d| {
        memchr::memmem::find(d, b"\r\n--XyZ").is_none()
    })
}

fn parts() -> impl Strategy<Value = Vec<Written>> {
    let part = (
        "[a-z]{1,8}",
        proptest::option::of("[a-zA-Z0-9 ._-]{1,12}"),
        tricky_data(),
    )
        .prop_map(|(name, file, data)| {
            let mut d = format!("Content-Disposition: form-data; name=\"{name}\"");
            if let Some(f) = file {
                d.push_str(&format!("; filename=\"{f}\""));
            }
            Written {
                heads: vec![d],
                data,
            }
        });
    proptest::collection::vec(part, 1..5)
}

async fn with_multer(
    bytes: Vec<u8>,
) -> Result<Vec<(Option<String>, Option<String>, Vec<u8>)>, String> {
    let stream = futures_util::stream::iter([Ok::<_, io::Error>(Bytes::from(bytes))]);
    let mut mp = multer::Multipart::new(stream, "XyZ");
    let mut out = Vec::new();
    while let Some(f) = mp.next_field().await.map_err(|e| e.to_string())? {
        let name = f.name().map(str::to_owned);
        let file = f.file_name().map(str::to_owned);
        let data = f.bytes().await.map_err(|e| e.to_string())?;
        out.push((name, file, data.to_vec()));
    }
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn reads_what_multer_reads(ps in parts(), cuts in proptest::collection::vec(0usize..600, 0..8)) {
        let bytes = encode("XyZ", &ps, b"");
        let ours = run(parse(framed(&bytes, &cuts), CT, 1024)).expect("parses");
        let theirs = run(with_multer(bytes)).expect("multer parses");
        let ours: Vec<_> = ours.into_iter().map(|(p, d)| (p.name, p.file_name, d)).collect();
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn any_bytes_end_in_parts_or_an_error_the_same_however_cut(
        noise in proptest::collection::vec(prop_oneof![Just(b"\r\n--XyZ".to_vec()), Just(b"\r\n\r\n".to_vec()), Just(b"--".to_vec()), proptest::collection::vec(any::<u8>(), 0..20)], 0..10),
        cuts in proptest::collection::vec(0usize..200, 0..8),
    ) {
        let bytes = noise.concat();
        let whole = run(parse(framed(&bytes, &[]), CT, 64)).map_err(|e| e.to_string());
        let cut = run(parse(framed(&bytes, &cuts), CT, 64)).map_err(|e| e.to_string());
        prop_assert_eq!(whole, cut);
    }
}

/// `frames`, then a body that never ends.
fn then_stalled(frames: Vec<Bytes>) -> Body {
    let head = futures_util::stream::iter(frames.into_iter().map(Ok::<_, io::Error>));
    Body::from_stream(head.chain(futures_util::stream::pending()))
}

#[test]
fn a_head_or_preamble_that_never_ends_is_refused_without_waiting_for_more() {
    let endless = |opening: &[u8]| {
        let mut frames = vec![Bytes::copy_from_slice(opening)];
        frames.extend((0..100).map(|_| Bytes::from_static(&[b'a'; 100])));
        then_stalled(frames)
    };
    for opening in [&b"--XyZ\r\nX-Long: "[..], b"preamble "] {
        let r = run(async {
            let parsed = parse(endless(opening), CT, 1000);
            tokio::time::timeout(std::time::Duration::from_secs(5), parsed).await
        });
        assert!(matches!(r, Ok(Err(MultipartError::HeadsTooLarge))), "{r:?}");
    }
}

#[test]
fn data_in_later_frames_is_handed_on_in_their_own_memory() {
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let bytes = encode(
        "XyZ",
        &[Written {
            heads: vec![],
            data: data.clone(),
        }],
        b"",
    );
    let frames: Vec<Bytes> = bytes
        .chunks(16 * 1024 + 7)
        .map(Bytes::copy_from_slice)
        .collect();
    let ranges: Vec<_> = frames.iter().map(|f| f.as_ptr_range()).collect();
    run(async {
        let mut mp = Multipart::new(then_stalled(frames), CT, 64).expect("multipart");
        mp.next_part().await.expect("reads").expect("a part");
        let (mut got, mut copied) = (Vec::new(), 0);
        while got.len() < data.len() {
            let c = mp.chunk().await.expect("reads").expect("more data");
            if !ranges.iter().any(|r| r.contains(&c.as_ptr())) {
                // Only a held-back tail that began the delimiter (a CR) is ever a copy.
                assert!(c.len() < 7, "a copy of {} bytes", c.len());
                copied += c.len();
            }
            got.extend_from_slice(&c);
        }
        assert_eq!(got, data);
        assert!(copied < 7 * ranges.len(), "{copied} bytes copied");
    });
}
