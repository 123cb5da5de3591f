//! Starting processes: free port pairs (a cluster node also needs its bus port, +10000) and
//! the one long-lived spawner thread, so that `--pdeathsig` fires when the test process dies
//! rather than when some short-lived thread that happened to start a server exits.

use std::io;
use std::net::TcpListener;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

type Request = (Command, mpsc::Sender<io::Result<Child>>);

static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();

fn spawner() -> &'static Mutex<mpsc::Sender<Request>> {
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        let _ = std::thread::Builder::new()
            .name("redis-testkit-spawner".into())
            .spawn(move || {
                while let Ok((mut cmd, reply)) = rx.recv() {
                    let _ = reply.send(cmd.spawn());
                }
            });
        Mutex::new(tx)
    })
}

fn has_setpriv() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        Command::new("setpriv")
            .arg("--help")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("pdeathsig"))
    })
}

/// `program args…`, run directly, or through `setpriv --pdeathsig KILL`, which execs it in
/// place (same PID).
pub(crate) fn command(program: &str) -> Command {
    if has_setpriv() {
        let mut c = Command::new("setpriv");
        c.args(["--pdeathsig", "KILL", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

/// Spawns `cmd` from the spawner thread.
pub(crate) fn spawn(cmd: Command) -> io::Result<Child> {
    let (tx, rx) = mpsc::channel();
    spawner()
        .lock()
        .map_err(|_| io::Error::other("spawner lock poisoned"))?
        .send((cmd, tx))
        .map_err(|_| io::Error::other("spawner thread gone"))?;
    rx.recv()
        .map_err(|_| io::Error::other("spawner thread gone"))?
}

/// A free loopback port whose cluster bus port (+10000) is free too. Another process can
/// still take it before the server binds it: callers retry when the server fails to start.
pub(crate) fn free_port() -> io::Result<u16> {
    for _ in 0..200 {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let port = l.local_addr()?.port();
        if port > 55_535 || port == 6379 {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::other("no free port pair found"))
}
