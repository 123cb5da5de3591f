//! Turning a scanner's raw output into a short, printable reason: the first non-empty line,
//! trimmed, lossily decoded and cut to [`REASON_MAX`] bytes (on a character boundary).

/// The longest reason or error detail kept from a scanner's output, in bytes.
pub(crate) const REASON_MAX: usize = 256;

/// The first non-empty line of `raw`, trimmed and bounded; empty if there is none.
pub(crate) fn first_line(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    bounded(line)
}

/// `s` cut to at most [`REASON_MAX`] bytes without splitting a character, control
/// characters replaced by spaces.
pub(crate) fn bounded(s: &str) -> String {
    let mut end = s.len().min(REASON_MAX);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end]
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_skips_blank_lines_and_trims() {
        assert_eq!(first_line(b"\n  \n  found: X  \nmore\n"), "found: X");
        assert_eq!(first_line(b""), "");
    }

    #[test]
    fn bounded_cuts_on_a_char_boundary() {
        let long = "é".repeat(REASON_MAX);
        let cut = bounded(&long);
        assert!(cut.len() <= REASON_MAX);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
