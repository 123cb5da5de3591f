//! Starting the measured servers as separate processes (pinned to CPU 0 with `taskset` when
//! available), waiting for them, and reading their resident memory.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server subprocess, killed on drop.
pub(crate) struct Proc {
    pub(crate) child: Child,
    pub(crate) addr: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn pinned(program: &PathBuf) -> Command {
    let has_taskset = Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if has_taskset {
        let mut c = Command::new("taskset");
        c.arg("-c").arg("0").arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Starts `program args…` and waits until `addr` accepts TCP connections.
pub(crate) fn spawn(program: &PathBuf, args: &[String], addr: String) -> anyhow::Result<Proc> {
    let child = pinned(program)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(&addr).is_ok() {
            return Ok(Proc { child, addr });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("{} did not start listening on {addr}", program.display())
}

/// Resident set size of a process in bytes (Linux `/proc`). With `taskset` in front, the
/// measured server is the child of the child, so follow `taskset`'s exec: same pid.
pub(crate) fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for pid {pid}"))?;
    Ok(kb * 1024)
}

/// CPU time (user + system, seconds) a process has used so far (Linux `/proc`, in clock
/// ticks of 1/100 s, the kernel's `USER_HZ` on every mainstream build).
pub(crate) fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow::anyhow!("bad stat for pid {pid}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
    let (u, s) = ticks(11)
        .zip(ticks(12))
        .ok_or_else(|| anyhow::anyhow!("no CPU times for pid {pid}"))?;
    Ok((u + s) as f64 / 100.0)
}
