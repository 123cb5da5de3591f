//! Reading a new console password: from the terminal without echo when standard input is
//! one (asked twice), otherwise one line of standard input (for scripts).

use anyhow::{Context, bail};
use chinwag_agent_api::console::{MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, check_password};
use rustix::termios::{self, LocalModes, OptionalActions, Termios};
use std::io::{BufRead, Read, Write};

/// Puts the terminal's echo back when dropped.
struct EchoOff {
    saved: Termios,
}

impl EchoOff {
    fn new() -> anyhow::Result<Self> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin).context("cannot read the terminal's settings")?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        termios::tcsetattr(&stdin, OptionalActions::Flush, &quiet)
            .context("cannot turn the terminal's echo off")?;
        Ok(Self { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Flush, &self.saved);
    }
}

/// One line of standard input, at most `MAX_PASSWORD_BYTES` (+ its line end), without the
/// line end.
fn read_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_PASSWORD_BYTES as u64 + 2)
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    Ok(line.strip_suffix('\r').unwrap_or(line).to_owned())
}

fn ask(prompt: &str) -> anyhow::Result<String> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let echo = EchoOff::new()?;
    let line = read_line();
    drop(echo);
    eprintln!();
    line
}

/// The new password for account `id`, checked for length.
pub(crate) fn new_password(id: &str) -> anyhow::Result<String> {
    let password = if termios::isatty(std::io::stdin()) {
        let first = ask(&format!(
            "New console password for '{id}' (at least {MIN_PASSWORD_CHARS} characters): "
        ))?;
        check_password(&first)?;
        if ask("Repeat it: ")? != first {
            bail!("the two passwords differ; nothing was changed");
        }
        first
    } else {
        let line = read_line()?;
        if line.is_empty() {
            bail!(
                "no password on standard input (give one line of at least {MIN_PASSWORD_CHARS} characters)"
            );
        }
        line
    };
    check_password(&password)?;
    Ok(password)
}
