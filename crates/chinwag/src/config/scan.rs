//! `[files.scan]`: the optional scan every upload passes before it is announced — a local
//! program fed the file on its stdin (`command`, exit 0 clean, 1 rejected) or a clamd daemon
//! (`clamd_socket` for its Unix socket, `clamd_tcp` for its TCP address). At most one; none
//! set means no scan. A scanner that fails or takes longer than `timeout_secs` refuses the
//! file (fail closed).

use anyhow::{bail, ensure};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `[files.scan]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ScanConfig {
    /// The program and its arguments (no shell), e.g. `["/usr/bin/clamdscan", "--no-summary", "-"]`.
    pub(crate) command: Vec<String>,
    /// clamd's Unix socket, e.g. `/run/clamav/clamd.ctl`.
    pub(crate) clamd_socket: Option<PathBuf>,
    /// clamd's TCP address, e.g. `127.0.0.1:3310`.
    pub(crate) clamd_tcp: Option<SocketAddr>,
    /// Longest one scan may take.
    pub(crate) timeout_secs: f64,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            command: Vec::new(),
            clamd_socket: None,
            clamd_tcp: None,
            timeout_secs: 30.0,
        }
    }
}

/// The scanner to use, checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ScanTarget {
    /// Run a program.
    Command {
        /// The program.
        program: PathBuf,
        /// Its arguments.
        args: Vec<String>,
        /// Longest one scan may take.
        timeout: Duration,
    },
    /// clamd on a Unix socket.
    ClamdUnix(PathBuf, Duration),
    /// clamd on TCP.
    ClamdTcp(SocketAddr, Duration),
}

impl ScanConfig {
    /// The scanner configured, if any.
    pub(crate) fn target(&self) -> anyhow::Result<Option<ScanTarget>> {
        let set = usize::from(!self.command.is_empty())
            + usize::from(self.clamd_socket.is_some())
            + usize::from(self.clamd_tcp.is_some());
        ensure!(
            set <= 1,
            "files.scan: set one of command, clamd_socket and clamd_tcp"
        );
        let secs = self.timeout_secs;
        ensure!(
            secs.is_finite() && secs > 0.0 && secs <= 3600.0,
            "files.scan.timeout_secs must be more than 0 and at most 3600"
        );
        let timeout = Duration::from_secs_f64(secs);
        Ok(if let Some((program, args)) = self.command.split_first() {
            if program.is_empty() {
                bail!("files.scan.command: the program must not be empty");
            }
            Some(ScanTarget::Command {
                program: PathBuf::from(program),
                args: args.to_vec(),
                timeout,
            })
        } else if let Some(path) = &self.clamd_socket {
            Some(ScanTarget::ClamdUnix(path.clone(), timeout))
        } else {
            self.clamd_tcp
                .map(|addr| ScanTarget::ClamdTcp(addr, timeout))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> anyhow::Result<Option<ScanTarget>> {
        toml::from_str::<ScanConfig>(toml_text)?.target()
    }

    #[test]
    fn each_scanner_is_read_and_none_by_default() -> anyhow::Result<()> {
        assert_eq!(parse("")?, None);
        assert_eq!(
            parse("command = [\"/bin/scan\", \"-\"]\ntimeout_secs = 5")?,
            Some(ScanTarget::Command {
                program: "/bin/scan".into(),
                args: vec!["-".into()],
                timeout: Duration::from_secs(5),
            })
        );
        assert_eq!(
            parse("clamd_socket = \"/run/c.sock\"")?,
            Some(ScanTarget::ClamdUnix(
                "/run/c.sock".into(),
                Duration::from_secs(30)
            ))
        );
        assert_eq!(
            parse("clamd_tcp = \"127.0.0.1:3310\"")?,
            Some(ScanTarget::ClamdTcp(
                "127.0.0.1:3310".parse()?,
                Duration::from_secs(30)
            ))
        );
        Ok(())
    }

    #[test]
    fn two_scanners_or_a_bad_timeout_are_refused() {
        for (text, why) in [
            (
                "command = [\"/bin/x\"]\nclamd_tcp = \"127.0.0.1:1\"",
                "set one of",
            ),
            (
                "clamd_socket = \"/a\"\nclamd_tcp = \"127.0.0.1:1\"",
                "set one of",
            ),
            ("command = [\"/bin/x\"]\ntimeout_secs = 0", "timeout_secs"),
            ("command = [\"\"]", "must not be empty"),
        ] {
            let err = parse(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
