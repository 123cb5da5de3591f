//! `CommandScanner` against real `/bin/sh` scripts written into a temp dir: each exit status
//! maps to its verdict, a program that stops reading early (or never reads) decides with
//! its exit status, a flood of output cannot block it, and a hung program is killed at the
//! timeout.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use bytes::Bytes;
use chinwag_core::ports::{ByteStream, FileScanner, ScanError, ScanVerdict};
use chinwag_file_scan::CommandScanner;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Generous: these scripts finish at once; only the hung one meets a short timeout.
const TIMEOUT: Duration = Duration::from_secs(20);
/// The marker the policy script looks for.
const MARKER: &[u8] = b"CHINWAG-POLICY-MARKER";

/// Writes `script` into `dir` and returns a scanner running it under `/bin/sh` (the file
/// is read by sh, never executed itself: no "text file busy" race with other tests).
fn script(dir: &Path, name: &str, script: &str, timeout: Duration) -> CommandScanner {
    let path = dir.join(name);
    std::fs::write(&path, script).expect("write script");
    CommandScanner::new(
        PathBuf::from("/bin/sh"),
        vec![path.to_string_lossy().into_owned()],
        timeout,
    )
}

/// `data` as a body of chunks of `chunk` bytes.
fn body(data: Vec<u8>, chunk: usize) -> ByteStream<'static> {
    let chunks: Vec<std::io::Result<Bytes>> = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures_util::stream::iter(chunks))
}

/// Scans `data`, failing the test if the scan itself hangs past a wide bound.
async fn scan(scanner: &CommandScanner, data: Vec<u8>) -> Result<ScanVerdict, ScanError> {
    let size = data.len() as u64;
    tokio::time::timeout(
        Duration::from_secs(60),
        scanner.scan(body(data, 64 * 1024), size),
    )
    .await
    .expect("the scan must end by itself")
}

/// A few MB of bytes with `marker` (if any) in the middle.
fn big(marker: Option<&[u8]>) -> Vec<u8> {
    let mut data = vec![b'a'; 3 * 1024 * 1024];
    if let Some(m) = marker {
        data.extend_from_slice(m);
    }
    data.extend(std::iter::repeat_n(b'b', 3 * 1024 * 1024));
    data
}

#[tokio::test]
async fn exit_0_after_reading_everything_is_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = script(dir.path(), "clean.sh", "cat >/dev/null\nexit 0\n", TIMEOUT);
    assert_eq!(scan(&s, big(None)).await.expect("scan"), ScanVerdict::Clean);
}

#[tokio::test]
async fn exit_1_is_rejected_with_the_first_output_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = script(
        dir.path(),
        "policy.sh",
        "if grep -q CHINWAG-POLICY-MARKER; then\n\
         \x20 printf '\\n   policy: marker found   \\nsecond line\\n'\n\
         \x20 exit 1\nfi\nexit 0\n",
        TIMEOUT,
    );
    assert_eq!(
        scan(&s, big(Some(MARKER))).await.expect("scan"),
        ScanVerdict::Rejected("policy: marker found".into())
    );
    // The same script passes a file without the marker.
    assert_eq!(scan(&s, big(None)).await.expect("scan"), ScanVerdict::Clean);
}

#[tokio::test]
async fn exit_1_without_stdout_takes_the_reason_from_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = script(
        dir.path(),
        "stderr.sh",
        "cat >/dev/null\necho 'refused: too odd' >&2\nexit 1\n",
        TIMEOUT,
    );
    assert_eq!(
        scan(&s, b"x".to_vec()).await.expect("scan"),
        ScanVerdict::Rejected("refused: too odd".into())
    );
}

#[tokio::test]
async fn other_exit_codes_and_signals_are_scan_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let two = script(
        dir.path(),
        "two.sh",
        "cat >/dev/null\necho 'database missing' >&2\nexit 2\n",
        TIMEOUT,
    );
    let err = scan(&two, b"x".to_vec()).await.expect_err("exit 2");
    assert!(err.0.contains("database missing"), "{err}");
    let killed = script(dir.path(), "killed.sh", "kill -9 $$\n", TIMEOUT);
    scan(&killed, b"x".to_vec())
        .await
        .expect_err("killed by a signal");
}

#[tokio::test]
async fn a_program_that_cannot_start_is_a_scan_error() {
    let s = CommandScanner::new(
        PathBuf::from("/nonexistent/chinwag-scanner"),
        Vec::new(),
        TIMEOUT,
    );
    scan(&s, b"x".to_vec()).await.expect_err("no such program");
}

#[tokio::test]
async fn exiting_without_reading_a_large_file_decides_by_exit_status() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pass = script(dir.path(), "pass.sh", "exit 0\n", TIMEOUT);
    assert_eq!(
        scan(&pass, big(None)).await.expect("scan"),
        ScanVerdict::Clean
    );
    let refuse = script(
        dir.path(),
        "refuse.sh",
        "echo 'refused unread'\nexit 1\n",
        TIMEOUT,
    );
    assert_eq!(
        scan(&refuse, big(None)).await.expect("scan"),
        ScanVerdict::Rejected("refused unread".into())
    );
}

#[tokio::test]
async fn a_flood_of_output_is_drained_and_the_reason_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The shell writes ~600 KB itself (a builtin echo), far past a pipe's buffer: were its
    // stdout closed instead of drained, it would die of SIGPIPE before its `exit 1`.
    let line = "x".repeat(1000);
    let s = script(
        dir.path(),
        "flood.sh",
        &format!(
            "cat >/dev/null\ni=0\nwhile [ $i -lt 600 ]; do echo {line}; i=$((i+1)); done\nexit 1\n"
        ),
        TIMEOUT,
    );
    match scan(&s, big(None)).await.expect("scan") {
        ScanVerdict::Rejected(reason) => {
            assert!(
                !reason.is_empty() && reason.len() <= 256,
                "{}",
                reason.len()
            );
            assert!(reason.bytes().all(|b| b == b'x'));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_hung_program_is_killed_at_the_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pid");
    let s = script(
        dir.path(),
        "hang.sh",
        &format!("echo $$ > '{}'\nexec sleep 600\n", pidfile.display()),
        Duration::from_millis(500),
    );
    let err = scan(&s, big(None)).await.expect_err("timeout");
    assert!(err.0.contains("did not finish"), "{err}");
    // The program was killed: its pid (sh exec'd into sleep) leaves /proc once reaped or
    // turns into a zombie; it no longer runs `sleep 600`.
    let pid = std::fs::read_to_string(&pidfile).expect("pid file");
    let cmdline = Path::new("/proc").join(pid.trim()).join("cmdline");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::fs::read(&cmdline).is_ok_and(|c| !c.is_empty()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the hung program is still running"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_unreadable_file_is_a_scan_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = script(dir.path(), "clean.sh", "cat >/dev/null\nexit 0\n", TIMEOUT);
    let chunks: Vec<std::io::Result<Bytes>> = vec![
        Ok(Bytes::from_static(b"start")),
        Err(std::io::Error::other("disk gone")),
    ];
    let err = s
        .scan(Box::pin(futures_util::stream::iter(chunks)), 10)
        .await
        .expect_err("source failed");
    assert!(err.0.contains("disk gone"), "{err}");
}
