//! A real clamd for the tests: a temp dir with a `clamd.conf` and a database of one body
//! signature of our own (`test.ndb`), clamd started on it as a child process (foreground,
//! this user, no system paths), ready once it answers `PING` on its Unix socket, and killed
//! by its PID when dropped.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bytes the test signature matches.
pub(crate) const MARKER: &[u8] = b"chinwag-test-signature-3b1f9c0e";
/// The test signature's name (clamd reports it with `.UNOFFICIAL` appended).
pub(crate) const SIGNATURE: &str = "Chinwag.Test.Marker";
/// How long clamd may take to load its database and listen.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A running clamd, killed when dropped.
pub(crate) struct Clamd {
    child: Child,
    /// Its Unix socket.
    pub(crate) socket: PathBuf,
    /// Its TCP socket (on 127.0.0.1).
    pub(crate) tcp: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Clamd {
    /// Starts clamd with `StreamMaxLength` set to `stream_max` (clamd's default if `None`);
    /// `None` (after a loud SKIP) if clamd is not installed and not required.
    pub(crate) fn start(stream_max: Option<&str>) -> Option<Clamd> {
        let Some(bin) = find_clamd() else {
            assert!(
                std::env::var("CHINWAG_REQUIRE_CLAMD").as_deref() != Ok("1"),
                "clamd not found but CHINWAG_REQUIRE_CLAMD=1 (install clamav-daemon)"
            );
            eprintln!(
                "\n=== SKIP: clamd not installed (Debian: clamav-daemon); the ClamdScanner \
                 tests did NOT run ===\n"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("db");
        std::fs::create_dir(&db).expect("db dir");
        let hex: String = MARKER.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(db.join("test.ndb"), format!("{SIGNATURE}:0:*:{hex}\n")).expect("ndb");
        let socket = dir.path().join("clamd.sock");
        let port = free_port();
        let mut conf = format!(
            "DatabaseDirectory {}\nLocalSocket {}\nTCPSocket {port}\nTCPAddr 127.0.0.1\n\
             Foreground yes\nTemporaryDirectory {}\n",
            db.display(),
            socket.display(),
            dir.path().display(),
        );
        if let Some(max) = stream_max {
            conf.push_str(&format!("StreamMaxLength {max}\n"));
        }
        let conf_path = dir.path().join("clamd.conf");
        std::fs::write(&conf_path, conf).expect("clamd.conf");
        let log_path = dir.path().join("clamd.log");
        let log = std::fs::File::create(&log_path).expect("log");
        let child = Command::new(bin)
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start clamd");
        let mut clamd = Clamd {
            child,
            socket,
            tcp: SocketAddr::from(([127, 0, 0, 1], port)),
            _dir: dir,
        };
        clamd.wait_ready(&log_path);
        Some(clamd)
    }

    /// Waits (bounded) until clamd answers `PING` on its Unix socket and accepts on TCP.
    fn wait_ready(&mut self, log: &Path) {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if ping(&self.socket) && std::net::TcpStream::connect(self.tcp).is_ok() {
                return;
            }
            let exited = self.child.try_wait().expect("try_wait");
            let log = || std::fs::read_to_string(log).unwrap_or_default();
            if let Some(status) = exited {
                panic!("clamd exited ({status}) before it was ready:\n{}", log());
            }
            if Instant::now() > deadline {
                panic!("clamd not ready within {READY_WITHIN:?}:\n{}", log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// clamd's binary: on `PATH` or Debian's `/usr/sbin/clamd`.
fn find_clamd() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("clamd"))
        .find(|p| p.is_file())
}

/// A TCP port free a moment ago.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Whether clamd answers `zPING\0` with `PONG`.
fn ping(socket: &Path) -> bool {
    let Ok(mut conn) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = Vec::new();
    conn.write_all(b"zPING\0").is_ok()
        && conn.take(64).read_to_end(&mut reply).is_ok()
        && reply.starts_with(b"PONG")
}
