//! The epoch a shared routing state belongs to: 16 hex digits and a newline before the
//! snapshot. A new epoch starts when the state is built from the stored chats (the first
//! start, or after the store lost the state), so a node whose copy is newer than what is
//! stored can tell "another node rebuilt it" (another epoch: take it) from "the store went
//! back" (same epoch, older version: rebuild).

/// Bytes of the epoch prefix.
const LEN: usize = 17;

/// A fresh random epoch.
pub(super) fn fresh() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// What is saved: `epoch`, a newline, the snapshot.
pub(super) fn seal(epoch: &str, snapshot: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(LEN + snapshot.len());
    out.extend_from_slice(epoch.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(snapshot);
    out
}

/// The epoch and the snapshot of what was saved (epoch empty: saved without one).
pub(super) fn open(bytes: &[u8]) -> (String, &[u8]) {
    match bytes.split_at_checked(LEN) {
        Some((head, rest))
            if head[LEN - 1] == b'\n' && head[..LEN - 1].iter().all(u8::is_ascii_hexdigit) =>
        {
            (String::from_utf8_lossy(&head[..LEN - 1]).into_owned(), rest)
        }
        _ => (String::new(), bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_to_their_epoch_and_snapshot() {
        let e = fresh().unwrap_or_default();
        assert_eq!(e.len(), 16);
        let sealed = seal(&e, b"{\"q\":[]}");
        assert_eq!(open(&sealed), (e, &b"{\"q\":[]}"[..]));
        assert_eq!(open(b"{\"q\":[]}"), (String::new(), &b"{\"q\":[]}"[..]));
    }
}
