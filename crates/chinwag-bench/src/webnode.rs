//! What the `web` scenario needs outside Rust: the browser-driving script under
//! `crates/chinwag-bench/web/` run with `node` (its playwright-core taken from tests/node,
//! installed with `npm ci` when missing), and an agent account written by the binary's own
//! `chinwag agent add`.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The folder of the browser script (next to this crate's sources).
pub(crate) fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// The repository's tests/node folder (whose node_modules hold playwright-core).
pub(crate) fn tests_node() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/node")
}

/// Runs `npm ci` in tests/node when playwright-core is not installed there.
pub(crate) fn ensure_node_modules() -> anyhow::Result<()> {
    let dir = tests_node();
    if dir.join("node_modules/playwright-core").is_dir() {
        return Ok(());
    }
    eprintln!("web: npm ci in {}", dir.display());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "npm ci in {} failed", dir.display());
    Ok(())
}

/// Runs one part of the browser script (`bench.mjs <part> --server … <args>`) and parses the
/// JSON it prints; `env` is added to its environment. Fails after `limit`.
pub(crate) async fn run_part(
    node: &Path,
    part: &str,
    server: &str,
    args: &[String],
    env: &[(&str, &str)],
    limit: Duration,
) -> anyhow::Result<Value> {
    let mut cmd = tokio::process::Command::new(node);
    // The latency part's stream client is Node's WebSocket (flagged in Node 20, the default
    // since 22: the flag is then accepted and does nothing).
    cmd.arg("--experimental-websocket")
        .arg("--no-warnings")
        .arg(script_dir().join("bench.mjs"))
        .arg(part)
        .arg("--server")
        .arg(server)
        .arg("--tests-node")
        .arg(tests_node())
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let child = cmd.spawn()?;
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .map_err(|_| anyhow::anyhow!("the browser part '{part}' took over {limit:?}"))??;
    anyhow::ensure!(
        out.status.success(),
        "the browser part '{part}' failed ({})",
        out.status
    );
    let text = String::from_utf8(out.stdout)?;
    let last = text.lines().last().unwrap_or_default();
    Ok(serde_json::from_str(last)?)
}

/// Adds agent `id` (queue `default`, `capacity` chats) to the configuration file `cfg` with
/// `chinwag agent add`, the password given on its standard input, then gives it `token` (the
/// CLI writes no tokens: the line is appended to the file's last table, the new agent's).
pub(crate) fn add_agent(
    bin: &Path,
    cfg: &Path,
    id: &str,
    capacity: usize,
    password: &str,
    token: &str,
) -> anyhow::Result<()> {
    let mut child = Command::new(bin)
        .args(["agent", "add", id, "--name", "Bench", "--queues", "default"])
        .arg("--capacity")
        .arg(capacity.to_string())
        .arg("--config")
        .arg(cfg)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "{password}")?;
    }
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "chinwag agent add failed ({status})");
    let mut f = std::fs::OpenOptions::new().append(true).open(cfg)?;
    writeln!(f, "token = \"{token}\"")?;
    Ok(())
}
