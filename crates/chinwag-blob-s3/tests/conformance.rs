//! The S3 blob store against the blob-store conformance suite, on a real S3-compatible
//! server: `s3s-fs` (installed by `scripts/test`), started on a free port over a temporary
//! folder. Without the binary the test says so loudly and does nothing, unless
//! `CHINWAG_REQUIRE_S3S_FS` is set (as `scripts/test` does), when it fails.

use bytes::Bytes;
use chinwag_blob_s3::{S3BlobStore, S3Config};
use chinwag_core::ids::ChatId;
use chinwag_core::ports::{BlobError, BlobStore, ByteStream};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ACCESS: &str = "chinwag-test";
const SECRET: &str = "chinwag-test-secret";

/// A running `s3s-fs`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    _root: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `s3s-fs` from `$S3S_FS`, the `PATH` or cargo's bin folder.
fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("S3S_FS") {
        return Some(PathBuf::from(path));
    }
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin"));
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(cargo_bin)
        .map(|dir| dir.join("s3s-fs"))
        .find(|candidate| candidate.is_file())
}

fn start(binary: &PathBuf, bucket: &str) -> Result<Server, Box<dyn std::error::Error>> {
    let root = tempfile::tempdir()?;
    std::fs::create_dir(root.path().join(bucket))?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", ACCESS, "--secret-key", SECRET])
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let server = Server {
        child,
        port,
        _root: root,
    };
    // Wait (up to 20 s) until it accepts connections.
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(server);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err("s3s-fs did not start listening".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_blob_conformance_suite_on_s3s_fs() -> TestResult {
    let Some(binary) = binary() else {
        if std::env::var_os("CHINWAG_REQUIRE_S3S_FS").is_some() {
            return Err("s3s-fs not found and CHINWAG_REQUIRE_S3S_FS is set".into());
        }
        eprintln!(
            "\n*** SKIPPED: s3s-fs not found (set S3S_FS or run scripts/test, which installs \
             it with `cargo install s3s-fs@0.14.1 --features binary --locked`) ***\n"
        );
        return Ok(());
    };
    let server = start(&binary, "chinwag")?;
    let store = store_on(&server)?;
    chinwag_store_conformance::blobs::run_suite(&store).await;
    multipart_past_the_cap_leaves_nothing(&store).await?;
    Ok(())
}

fn store_on(server: &Server) -> Result<S3BlobStore, BlobError> {
    S3BlobStore::new(&S3Config {
        endpoint: format!("http://127.0.0.1:{}", server.port),
        bucket: "chinwag".into(),
        region: "us-east-1".into(),
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        prefix: "files".into(),
    })
}

/// A body that passes the cap after the first 5 MiB part went out as a multipart upload:
/// refused, and no object appears (the upload is aborted).
async fn multipart_past_the_cap_leaves_nothing(store: &S3BlobStore) -> TestResult {
    let chat = ChatId::new("multipartCap");
    let chunk = Bytes::from(vec![7u8; 64 * 1024]);
    let cap = 9 * 1024 * 1024;
    let body: ByteStream<'static> = Box::pin(futures_util::stream::iter(
        std::iter::repeat_n(chunk, 12 * 16).map(Ok),
    ));
    match store.put(&chat, body, cap).await {
        Err(BlobError::TooLarge { cap: c }) => assert_eq!(c, cap),
        other => panic!("12 MiB under a 9 MiB cap gave {other:?}"),
    }
    assert!(store.list(&chat).await?.is_empty(), "nothing stored");
    Ok(())
}
