//! The CometD key file: the server keys that seal CometD secure keys. Created with one fresh
//! key (mode 0600) on first start; one key per line (base64 of 32 bytes; `#` comments), the
//! first one sealing new keys and every one opening them, so a key can be rotated by adding a
//! new first line and dropping the old one once no client holds keys sealed with it. Every
//! node of a deployment must have the same file.

use anyhow::{Context, bail};
use base64::Engine;
use chinwag_gms_wire::comet_key::{CometKeys, KEY_LEN};
use std::io::Write;
use std::path::Path;

/// Reads the key file at `path`, creating it with a fresh key if it does not exist.
pub(crate) fn load_or_create(path: &Path) -> anyhow::Result<CometKeys> {
    if !path.exists() {
        create(path)
            .with_context(|| format!("while creating CometD key file {}", path.display()))?;
        tracing::info!(file = %path.display(), "created a new CometD key file");
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("while reading CometD key file {}", path.display()))?;
    parse(&text).with_context(|| format!("in CometD key file {}", path.display()))
}

fn create(path: &Path) -> anyhow::Result<()> {
    let key = CometKeys::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    writeln!(
        f,
        "# Chinwag CometD keys: the first line seals new keys, every line opens them. Keep secret."
    )?;
    writeln!(
        f,
        "{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )?;
    f.sync_all()?;
    Ok(())
}

/// The keys of a key file's text.
pub(crate) fn parse(text: &str) -> anyhow::Result<CometKeys> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(line)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(line))
            .with_context(|| format!("line {}: not base64", n + 1))?;
        let Ok(key) = <[u8; KEY_LEN]>::try_from(raw.as_slice()) else {
            bail!(
                "line {}: a key is {KEY_LEN} bytes, not {}",
                n + 1,
                raw.len()
            );
        };
        keys.push(key);
    }
    Ok(CometKeys::new(&keys)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_is_created_once_and_read_back() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("cometd.key");
        let first = load_or_create(&path)?;
        let text = std::fs::read_to_string(&path)?;
        let again = load_or_create(&path)?;
        assert_eq!(std::fs::read_to_string(&path)?, text, "not rewritten");
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path)?.permissions().mode() & 0o777,
                0o600
            );
        }
        Ok(())
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        for (text, expected) in [
            ("", "no CometD key"),
            ("not-base64!!\n", "line 1: not base64"),
            ("# c\nAAAA\n", "line 2: a key is 32 bytes"),
        ] {
            let msg = parse(text)
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_default();
            assert!(msg.contains(expected), "{text:?}: {msg}");
        }
    }
}
