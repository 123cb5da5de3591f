//! File names made safe: what a client sent as an upload's file name becomes a name with no
//! path (neither `/` nor `\`), no control or direction-override characters, none of the
//! characters Windows forbids, no leading dot, not a reserved Windows device name, and at
//! most a given number of bytes (cut on a character boundary, the extension kept). It is
//! never empty: a name with nothing left becomes [`FALLBACK_NAME`].

/// The longest name kept, in bytes (the usual file-system limit).
pub const MAX_NAME_BYTES: usize = 255;
/// The name given when nothing of the client's is usable.
pub const FALLBACK_NAME: &str = "file";
/// The smallest limit honoured: a smaller `max_bytes` is raised to this.
const MIN_LIMIT: usize = 16;
/// The longest extension kept whole when a name is cut.
const MAX_EXT_BYTES: usize = 16;

/// Device names Windows reserves, whatever their extension.
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// `raw` (a client's file name) made safe, at most `max_bytes` bytes long (at least 16).
pub fn sanitize_file_name(raw: &str, max_bytes: usize) -> String {
    let max = max_bytes.max(MIN_LIMIT);
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_direction_mark(*c))
        .map(|c| if "<>:\"|?*".contains(c) { '_' } else { c })
        .collect();
    let mut name = trim(&truncate_keeping_extension(trim(&cleaned), max)).to_owned();
    if is_reserved(&name) {
        // Checked after the cut, which can leave a device name ("CON   x.txt" cut after
        // "CON"); a name starting '_' is none, however it is cut again.
        name = trim(&truncate_keeping_extension(&format!("_{name}"), max)).to_owned();
    }
    if name.is_empty() {
        FALLBACK_NAME.to_owned()
    } else {
        name
    }
}

/// Without leading dots and spaces, and trailing ones (Windows drops those).
fn trim(name: &str) -> &str {
    name.trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
}

/// Bidirectional overrides and isolates, which make `gpj.exe` display as `exe.jpg`.
fn is_direction_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether the part before the first dot is a Windows device name.
fn is_reserved(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem))
}

/// `name` cut to `max` bytes on a character boundary, keeping a short extension whole.
fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let ext_limit = MAX_EXT_BYTES.min(max / 2);
    match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= ext_limit + 1 => {
            let ext = &name[dot..];
            let stem = trim(cut(&name[..dot], max - ext.len()));
            format!("{stem}{ext}")
        }
        _ => cut(name, max).to_owned(),
    }
}

/// The longest prefix of `s` of at most `max` bytes ending on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
#[path = "name_tests.rs"]
mod tests;
