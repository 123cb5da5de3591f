//! The command scanner: runs a local program (directly, no shell) with the file's bytes on
//! its stdin and takes its exit status as the verdict: 0 clean, 1 rejected (the reason is
//! the first line it printed, stdout before stderr), anything else (another code, a signal,
//! a failure to start, the timeout) a [`ScanError`].
//!
//! The program may exit before reading the whole file (it has decided): the broken pipe
//! that leaves is not an error, its exit status is the verdict. Its output is read
//! concurrently with the feeding, so a program that prints while it reads cannot block;
//! only the first [`OUTPUT_KEEP`] bytes of each stream are kept, the rest is drained and
//! dropped. On the timeout the program is killed (`kill_on_drop`).

use crate::text::{bounded, first_line};
use async_trait::async_trait;
use chinwag_core::ports::{ByteStream, FileScanner, ScanError, ScanVerdict};
use futures_util::StreamExt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{ChildStdin, Command};

/// Bytes kept of each of the program's stdout and stderr.
const OUTPUT_KEEP: usize = 4 * 1024;

/// Scans a file by running a local program on it.
#[derive(Debug, Clone)]
pub struct CommandScanner {
    program: PathBuf,
    args: Vec<String>,
    timeout: Duration,
}

impl CommandScanner {
    /// A scanner running `program` with `args` for each file, killed after `timeout`.
    pub fn new(program: PathBuf, args: Vec<String>, timeout: Duration) -> CommandScanner {
        CommandScanner {
            program,
            args,
            timeout,
        }
    }

    /// Runs the program once on `body`: its exit status and the start of its output.
    async fn run(&self, body: ByteStream<'static>) -> Result<Finished, ScanError> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| ScanError(format!("cannot run {}: {e}", self.program.display())))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(ScanError("scan command's pipes missing".into()));
        };
        let output = |r: io::Result<Vec<u8>>| {
            r.map_err(|e| ScanError(format!("reading scan command's output: {e}")))
        };
        // The first failure (the file unreadable, a pipe error) ends the scan at once; the
        // child is then dropped, which kills it.
        let ((), stdout, stderr, status) = tokio::try_join!(
            feed(stdin, body),
            async { output(keep_start(stdout).await) },
            async { output(keep_start(stderr).await) },
            async {
                (child.wait().await)
                    .map_err(|e| ScanError(format!("waiting for scan command: {e}")))
            },
        )?;
        Ok(Finished {
            status,
            stdout,
            stderr,
        })
    }
}

/// What a finished program left.
struct Finished {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Finished {
    /// The verdict its exit status stands for.
    fn verdict(&self, program: &Path) -> Result<ScanVerdict, ScanError> {
        match self.status.code() {
            Some(0) => Ok(ScanVerdict::Clean),
            Some(1) => {
                let mut reason = first_line(&self.stdout);
                if reason.is_empty() {
                    reason = first_line(&self.stderr);
                }
                if reason.is_empty() {
                    reason = bounded(&format!("rejected by {}", program.display()));
                }
                Ok(ScanVerdict::Rejected(reason))
            }
            _ => {
                let mut detail = first_line(&self.stderr);
                if detail.is_empty() {
                    detail = first_line(&self.stdout);
                }
                Err(ScanError(format!(
                    "{} failed ({}){}{}",
                    program.display(),
                    self.status,
                    if detail.is_empty() { "" } else { ": " },
                    detail
                )))
            }
        }
    }
}

#[async_trait]
impl FileScanner for CommandScanner {
    async fn scan(&self, body: ByteStream<'static>, _size: u64) -> Result<ScanVerdict, ScanError> {
        match tokio::time::timeout(self.timeout, self.run(body)).await {
            Ok(finished) => finished?.verdict(&self.program),
            Err(_) => Err(ScanError(format!(
                "{} did not finish within {:?}; killed",
                self.program.display(),
                self.timeout
            ))),
        }
    }
}

/// Writes `body` to the program's stdin and closes it. A broken pipe means the program
/// stopped reading (it has decided, or died): not an error here, its exit status tells.
async fn feed(mut stdin: ChildStdin, mut body: ByteStream<'static>) -> Result<(), ScanError> {
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ScanError(format!("reading the file to scan: {e}")))?;
        match stdin.write_all(&chunk).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(ScanError(format!("writing to scan command: {e}"))),
        }
    }
    match stdin.shutdown().await {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(ScanError(format!("closing scan command's input: {e}")))
        }
        _ => Ok(()),
    }
}

/// Reads `r` to its end, keeping the first [`OUTPUT_KEEP`] bytes and dropping the rest.
async fn keep_start(mut r: impl AsyncRead + Unpin) -> io::Result<Vec<u8>> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8 * 1024];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok(kept);
        }
        let room = OUTPUT_KEEP.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
}
