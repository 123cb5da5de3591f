//! One `redis-server` process on a free loopback port, in its own directory: started,
//! killed (`SIGKILL`), paused (`SIGSTOP`) and restarted on the same port and directory.

use crate::resp::ask;
use crate::spawn::{command, free_port, spawn};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// How long a start or restart may take before it is an error (loading a large AOF counts).
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts at finding a port that stays free until the server binds it.
const START_TRIES: usize = 5;

/// The append-only file's fsync policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// `appendfsync always`: fsync before every reply.
    Always,
    /// `appendfsync everysec`: fsync once a second.
    EverySec,
}

/// How a server is started. The default: no persistence at all (`--save '' --appendonly no`)
/// in a temporary directory.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Turn the append-only file on with this fsync policy.
    pub aof: Option<Fsync>,
    /// Keep the server's files here (created if missing, never deleted) instead of in a
    /// temporary directory removed on drop.
    pub dir: Option<PathBuf>,
    /// More `redis-server` arguments, appended last.
    pub extra_args: Vec<String>,
}

impl ServerOptions {
    /// AOF on with `fsync`.
    pub fn with_aof(mut self, fsync: Fsync) -> Self {
        self.aof = Some(fsync);
        self
    }

    /// Files in `dir`.
    pub fn in_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }
}

/// A running (or killed, until restarted) `redis-server`. Dropping it kills the process.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    _temp: Option<tempfile::TempDir>,
}

impl RedisServer {
    /// A server without persistence.
    pub fn start() -> io::Result<Self> {
        Self::start_with(ServerOptions::default())
    }

    /// A server started as `options` says.
    pub fn start_with(options: ServerOptions) -> io::Result<Self> {
        Self::launch(options, false)
    }

    /// A server started as a cluster node (`--cluster-enabled yes`, node timeout 2 s).
    pub(crate) fn start_cluster_node(options: ServerOptions) -> io::Result<Self> {
        Self::launch(options, true)
    }

    fn launch(options: ServerOptions, cluster: bool) -> io::Result<Self> {
        let (dir, temp) = match &options.dir {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                (d.clone(), None)
            }
            None => {
                let t = tempfile::tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let mut last = io::Error::other("redis-server did not start");
        for _ in 0..START_TRIES {
            let port = free_port()?;
            let mut server = Self {
                port,
                dir: dir.clone(),
                args: arguments(port, &dir, &options, cluster),
                child: None,
                _temp: None,
            };
            match server.spawn_and_wait() {
                Ok(()) => {
                    server._temp = temp;
                    return Ok(server);
                }
                // It exited (most likely its port was taken meanwhile): try another port.
                Err(e) if server.child.is_none() && e.kind() == io::ErrorKind::AddrInUse => {
                    last = e;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    fn spawn_and_wait(&mut self) -> io::Result<()> {
        let mut cmd = command("redis-server");
        let out = std::fs::File::create(self.dir.join("redis.out"))?;
        cmd.args(&self.args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out));
        let child =
            spawn(cmd).map_err(|e| io::Error::new(e.kind(), format!("redis-server: {e}")))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match ask(self.port, &["PING"]) {
                Ok(r) if r == "PONG" => return Ok(()),
                // With `requirepass` it answers, but only to authenticated clients.
                Err(e) if e.to_string().starts_with("NOAUTH") => return Ok(()),
                _ => {}
            }
            if let Some(c) = self.child.as_mut()
                && let Some(status) = c.try_wait()?
            {
                self.child = None;
                let log = self.log_tail();
                let kind = if log.contains("Address already in use") {
                    io::ErrorKind::AddrInUse
                } else {
                    io::ErrorKind::Other
                };
                return Err(io::Error::new(
                    kind,
                    format!(
                        "redis-server on port {} exited ({status}): {log}",
                        self.port
                    ),
                ));
            }
            if Instant::now() > deadline {
                self.kill()?;
                return Err(io::Error::other(format!(
                    "redis-server on port {} not ready after {READY_TIMEOUT:?}",
                    self.port
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `redis://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its directory (AOF, `nodes.conf`, `redis.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process runs (it may be paused).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().is_ok_and(|s| s.is_none()))
    }

    /// `SIGKILL`s the process and reaps it (a crash: no shutdown save). A killed server
    /// stays down until [`RedisServer::restart`].
    pub fn kill(&mut self) -> io::Result<()> {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            c.wait()?;
        }
        Ok(())
    }

    /// Starts the process again (killing it first if it runs) on the same port, directory and
    /// arguments, and waits until it answers `PING` (after loading its AOF, if any).
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill()?;
        self.spawn_and_wait()
    }

    /// Stops the process with `SIGSTOP`: it keeps its sockets but answers nothing.
    pub fn pause(&self) -> io::Result<()> {
        self.signal("-STOP")
    }

    /// Resumes a paused process (`SIGCONT`).
    pub fn resume(&self) -> io::Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, sig: &str) -> io::Result<()> {
        let pid = self
            .pid()
            .ok_or_else(|| io::Error::other("redis-server is not running"))?;
        let ok = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()?
            .success();
        if ok {
            Ok(())
        } else {
            Err(io::Error::other(format!("kill {sig} {pid} failed")))
        }
    }

    /// Sends one command with the built-in minimal client and returns the reply as text.
    pub fn command(&self, args: &[&str]) -> io::Result<String> {
        ask(self.port, args)
    }

    /// The last lines of the server's log (and of what it printed before opening it).
    pub fn log_tail(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
        let text = read("redis.out") + &read("redis.log");
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.resume();
        let _ = self.kill();
    }
}

fn arguments(port: u16, dir: &Path, options: &ServerOptions, cluster: bool) -> Vec<String> {
    let mut a: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--dir",
        &dir.to_string_lossy(),
        "--logfile",
        "redis.log",
        "--daemonize",
        "no",
        "--save",
        "",
    ]
    .map(String::from)
    .into();
    match options.aof {
        None => a.extend(["--appendonly", "no"].map(String::from)),
        Some(fsync) => {
            let policy = match fsync {
                Fsync::Always => "always",
                Fsync::EverySec => "everysec",
            };
            a.extend(["--appendonly", "yes", "--appendfsync", policy].map(String::from));
        }
    }
    if cluster {
        a.extend(
            [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
            ]
            .map(String::from),
        );
    }
    a.extend(options.extra_args.iter().cloned());
    a
}
