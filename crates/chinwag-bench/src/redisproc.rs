//! A `redis-server` for the `cluster` scenario (started on a free port in a temporary
//! directory, with the persistence the shipped `deploy/redis/redis.conf` asks for), and the
//! Redis round-trip counter: a `MONITOR` connection that counts the commands clients sent,
//! by name, leaving out those a script ran inside the server (marked `lua`).

use crate::procs::{self, Proc};
use crate::rest::tempdir;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A running `redis-server` and its data directory.
pub(crate) struct Redis {
    pub(crate) proc: Proc,
    _dir: tempdir::Dir,
}

/// Starts `redis-server` (append-only file, fsync every second, no eviction), pinned like
/// the other servers.
pub(crate) fn start() -> anyhow::Result<Redis> {
    let dir = tempdir::Dir::new()?;
    let port = procs::free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let args = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--dir",
        &dir.0.to_string_lossy(),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--maxmemory-policy",
        "noeviction",
        "--save",
        "",
    ]
    .map(String::from);
    let proc = procs::spawn(&PathBuf::from("redis-server"), &args, addr)?;
    Ok(Redis { proc, _dir: dir })
}

/// Commands clients sent while a [`Monitor`] ran, by command name.
pub(crate) type Counts = BTreeMap<String, u64>;

/// A `MONITOR` session counting client commands until [`Monitor::stop`].
pub(crate) struct Monitor {
    counts: Arc<Mutex<Counts>>,
    task: tokio::task::JoinHandle<()>,
}

impl Monitor {
    /// Connects to `addr` and starts counting once Redis confirmed the monitor.
    pub(crate) async fn start(addr: &str) -> anyhow::Result<Self> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(b"MONITOR\r\n").await?;
        let mut lines = BufReader::new(stream).lines();
        match lines.next_line().await? {
            Some(l) if l == "+OK" => {}
            other => anyhow::bail!("MONITOR refused: {other:?}"),
        }
        let counts = Arc::new(Mutex::new(Counts::new()));
        let sink = counts.clone();
        let task = tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(name) = client_command(&line) {
                    let mut c = sink.lock().unwrap_or_else(PoisonError::into_inner);
                    *c.entry(name).or_default() += 1;
                }
            }
        });
        Ok(Self { counts, task })
    }

    /// Stops counting; returns the counts.
    pub(crate) async fn stop(self) -> Counts {
        // Lines already written by Redis arrive within a moment.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        self.task.abort();
        let c = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        c.clone()
    }
}

/// Commands Redis has processed so far (`INFO stats`, `total_commands_processed`).
async fn commands_processed(addr: &str) -> anyhow::Result<u64> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(b"INFO stats\r\n").await?;
    let mut lines = BufReader::new(stream).lines();
    while let Some(line) = lines.next_line().await? {
        if let Some(n) = line.strip_prefix("total_commands_processed:") {
            return Ok(n.trim().parse()?);
        }
    }
    anyhow::bail!("INFO stats without total_commands_processed")
}

/// Waits (at most a minute) until Redis is nearly idle — fewer than 10 commands in half a
/// second, the nodes' background work only — so that what a counting phase sees is its own
/// traffic, not the catch-up of the phase before.
pub(crate) async fn quiet(addr: &str) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut last = commands_processed(addr).await?;
    while std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let now = commands_processed(addr).await?;
        // INFO itself counts as one command.
        if now.saturating_sub(last) < 10 {
            return Ok(());
        }
        last = now;
    }
    anyhow::bail!("Redis did not go quiet within a minute")
}

/// The command name of a `MONITOR` line (`+1700000000.123456 [0 127.0.0.1:5000] "EVALSHA" …`)
/// sent by a client; `None` for commands a script ran (`[0 lua]`) and anything else.
fn client_command(line: &str) -> Option<String> {
    let rest = line.strip_prefix('+')?;
    let open = rest.find('[')?;
    let close = rest[open..].find(']')? + open;
    if rest[open..close].contains("lua") {
        return None;
    }
    let cmd = rest[close + 1..].trim_start().strip_prefix('"')?;
    Some(cmd[..cmd.find('"')?].to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::client_command;

    #[test]
    fn monitor_lines_count_client_commands_only() {
        assert_eq!(
            client_command(r#"+1700000000.123456 [0 127.0.0.1:5000] "evalsha" "abc" "1""#),
            Some("EVALSHA".into())
        );
        assert_eq!(
            client_command(r#"+1700000000.123456 [0 lua] "HSET" "k" "f" "v""#),
            None
        );
        assert_eq!(client_command("+OK"), None);
    }
}
