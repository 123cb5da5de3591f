//! `ClamdScanner` against a real clamd (Debian's `clamav-daemon`), started per test as a
//! child process on a temp dir holding its config and a one-signature database of our own
//! (no downloaded signatures), listening on a Unix socket and a free TCP port. Without
//! clamd installed the tests skip loudly, unless `CHINWAG_REQUIRE_CLAMD=1` (scripts/test).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use bytes::Bytes;
use chinwag_core::ports::{ByteStream, FileScanner, ScanVerdict};
use chinwag_file_scan::ClamdScanner;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

mod clamd_process;
use clamd_process::Clamd;

const TIMEOUT: Duration = Duration::from_secs(20);

/// `data` as a body of chunks of `chunk` bytes.
fn body(data: &[u8], chunk: usize) -> ByteStream<'static> {
    let chunks: Vec<std::io::Result<Bytes>> = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures_util::stream::iter(chunks))
}

/// A file of a few hundred KiB with the test signature's bytes in the middle.
fn infected() -> Vec<u8> {
    let mut data = vec![b'a'; 300 * 1024];
    data.extend_from_slice(clamd_process::MARKER);
    data.extend(std::iter::repeat_n(b'b', 300 * 1024));
    data
}

async fn scan(scanner: &ClamdScanner, data: &[u8], chunk: usize) -> Result<ScanVerdict, String> {
    scanner
        .scan(body(data, chunk), data.len() as u64)
        .await
        .map_err(|e| e.to_string())
}

fn both(clamd: &Clamd) -> [(&'static str, ClamdScanner); 2] {
    [
        ("unix", ClamdScanner::unix(clamd.socket.clone(), TIMEOUT)),
        ("tcp", ClamdScanner::tcp(clamd.tcp, TIMEOUT)),
    ]
}

#[tokio::test]
async fn a_clean_file_is_clean() {
    let Some(clamd) = Clamd::start(None) else {
        return;
    };
    for (via, scanner) in both(&clamd) {
        let data = vec![b'c'; 1024 * 1024];
        assert_eq!(
            scan(&scanner, &data, 64 * 1024).await,
            Ok(ScanVerdict::Clean),
            "{via}"
        );
        assert_eq!(
            scan(&scanner, b"", 1).await,
            Ok(ScanVerdict::Clean),
            "{via} empty"
        );
    }
}

#[tokio::test]
async fn a_file_with_the_signature_is_rejected_with_its_name() {
    let Some(clamd) = Clamd::start(None) else {
        return;
    };
    for (via, scanner) in both(&clamd) {
        // Odd chunk sizes: the marker straddles chunk boundaries, large chunks are split.
        for chunk in [7, 1000, 1024 * 1024] {
            match scan(&scanner, &infected(), chunk).await {
                Ok(ScanVerdict::Rejected(name)) => assert!(
                    name.starts_with(clamd_process::SIGNATURE),
                    "{via}/{chunk}: {name}"
                ),
                other => panic!("{via}/{chunk}: expected a rejection, got {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn a_file_past_clamds_stream_limit_is_a_scan_error() {
    let Some(clamd) = Clamd::start(Some("1M")) else {
        return;
    };
    for (via, scanner) in both(&clamd) {
        // Well past the limit: clamd stops reading, answers and closes while the file is
        // still being sent; its reason is still read.
        let data = vec![b'd'; 8 * 1024 * 1024];
        let err = scan(&scanner, &data, 64 * 1024).await.expect_err(via);
        assert!(err.contains("size limit exceeded"), "{via}: {err}");
    }
}

#[tokio::test]
async fn a_stopped_clamd_is_a_scan_error() {
    let Some(clamd) = Clamd::start(None) else {
        return;
    };
    let scanners = both(&clamd);
    for (via, scanner) in &scanners {
        assert_eq!(
            scan(scanner, b"up", 2).await,
            Ok(ScanVerdict::Clean),
            "{via}"
        );
    }
    drop(clamd);
    for (via, scanner) in &scanners {
        let err = scan(scanner, b"down", 2).await.expect_err(via);
        assert!(err.contains("cannot reach clamd"), "{via}: {err}");
    }
}

#[tokio::test]
async fn a_daemon_that_never_answers_is_a_scan_error_at_the_timeout() {
    // Not clamd: a socket that accepts and then says nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    let scanner = ClamdScanner::tcp(addr, Duration::from_millis(500));
    let err = tokio::time::timeout(Duration::from_secs(60), scan(&scanner, b"hi", 2))
        .await
        .expect("the scan must end by itself")
        .expect_err("no answer");
    assert!(err.contains("did not answer"), "{err}");
    // And a Unix socket path with nothing behind it.
    let gone = ClamdScanner::unix(PathBuf::from("/nonexistent/clamd.ctl"), TIMEOUT);
    scan(&gone, b"hi", 2).await.expect_err("no socket");
    hold.abort();
}
