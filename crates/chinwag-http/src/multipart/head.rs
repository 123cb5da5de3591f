//! The text of a multipart body: the boundary named by the request's `Content-Type`, and a
//! part's header section read into a [`Part`] (its `Content-Disposition` name and file name,
//! its type and announced length). Parameter values may be quoted. In a quoted value `\"` is a
//! quote (reqwest, and curl with `--form-escape`, send one so) and every other backslash is
//! kept as it is (browsers send a name's `"` as `%22` and its backslashes bare), as multer
//! read them. `filename*=UTF-8''…` (RFC 5987) wins over `filename`.

use super::error::{MultipartError, NotMultipart};

/// The longest boundary taken (RFC 2046 allows 70; some clients go a little past it).
const MAX_BOUNDARY: usize = 200;

/// The most header lines a part may have.
const MAX_HEADERS: usize = 32;

/// What a part's headers say about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// `name` of its `Content-Disposition`.
    pub name: Option<String>,
    /// `filename` (or `filename*`) of its `Content-Disposition`: a file part has one.
    pub file_name: Option<String>,
    /// The part's own `Content-Type` (a file's, as the client says).
    pub content_type: Option<String>,
    /// Its `Content-Length`, when it is a number.
    pub content_length: Option<u64>,
}

/// The boundary of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Result<String, NotMultipart> {
    let (kind, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return Err(NotMultipart("the content type is not multipart/form-data"));
    }
    let b = params_of(params)
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v)
        .ok_or(NotMultipart(
            "the multipart/form-data content type has no boundary",
        ))?;
    // The parser relies on CR appearing in the delimiter only at its start.
    let fits = !b.is_empty()
        && b.len() <= MAX_BOUNDARY
        && b.bytes().all(|c| c == b' ' || c.is_ascii_graphic());
    if fits {
        Ok(b)
    } else {
        Err(NotMultipart(
            "the multipart boundary is empty, too long or not printable",
        ))
    }
}

/// Reads a header section: `block` holds its lines, each ended by CRLF except the last, the
/// first being what followed the boundary on its line (only blanks may).
pub(crate) fn part(block: &[u8]) -> Result<Part, MultipartError> {
    let mut lines = block
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    if !first.iter().all(|&c| c == b' ' || c == b'\t') {
        return Err(MultipartError::Malformed(
            "malformed multipart body: text after a boundary on its line",
        ));
    }
    let mut part = Part::default();
    let mut disposition = None;
    for (n, line) in lines.enumerate() {
        if n == MAX_HEADERS {
            return Err(MultipartError::Malformed(
                "malformed multipart body: too many part headers",
            ));
        }
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            return Err(MultipartError::Malformed(
                "malformed multipart body: a part header has no colon",
            ));
        };
        let name = &line[..colon];
        let value = String::from_utf8_lossy(&line[colon + 1..])
            .trim()
            .to_owned();
        if name.eq_ignore_ascii_case(b"content-disposition") {
            disposition.get_or_insert(value);
        } else if name.eq_ignore_ascii_case(b"content-type") {
            part.content_type.get_or_insert(value);
        } else if name.eq_ignore_ascii_case(b"content-length") {
            part.content_length = part.content_length.or(value.parse().ok());
        }
    }
    if let Some(d) = disposition {
        // Its type (`form-data`) has no `=` and is passed over, as is a missing one.
        let mut extended = None;
        for (k, v) in params_of(&d) {
            if k.eq_ignore_ascii_case("name") {
                part.name.get_or_insert(v);
            } else if k.eq_ignore_ascii_case("filename") {
                part.file_name.get_or_insert(v);
            } else if k.eq_ignore_ascii_case("filename*") {
                extended = extended.or_else(|| ext_value(&v));
            }
        }
        if extended.is_some() {
            part.file_name = extended;
        }
    }
    Ok(part)
}

/// The `key=value` parameters of `s`, values unquoted; segments without `=` are passed over.
fn params_of(s: &str) -> impl Iterator<Item = (String, String)> + '_ {
    let mut rest = s;
    std::iter::from_fn(move || {
        loop {
            rest = rest.trim_start_matches([' ', '\t', ';']);
            if rest.is_empty() {
                return None;
            }
            let end = rest.find(['=', ';']).unwrap_or(rest.len());
            let key = rest[..end].trim().to_owned();
            if !rest[end..].starts_with('=') {
                rest = &rest[end..];
                continue;
            }
            rest = rest[end + 1..].trim_start_matches([' ', '\t']);
            let value = if let Some(q) = rest.strip_prefix('"') {
                let (v, after) = quoted(q);
                rest = after;
                v
            } else {
                let end = rest.find(';').unwrap_or(rest.len());
                let v = rest[..end].trim().to_owned();
                rest = &rest[end..];
                v
            };
            return Some((key, value));
        }
    })
}

/// A quoted string's text (after its opening quote) and what follows its closing quote (all
/// of `s` when it never closes).
fn quoted(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 1..]),
            '\\' if chars.peek().is_some_and(|&(_, e)| e == '"') => {
                out.push('"');
                chars.next();
            }
            c => out.push(c),
        }
    }
    (out, "")
}

/// The text of an RFC 5987 value `charset'language'percent-encoded`, when the charset is
/// UTF-8 and the bytes are.
fn ext_value(v: &str) -> Option<String> {
    let mut fields = v.splitn(3, '\'');
    let charset = fields.next()?;
    let _language = fields.next()?;
    let encoded = fields.next()?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut raw = encoded.bytes();
    while let Some(c) = raw.next() {
        if c == b'%' {
            let hi = char::from(raw.next()?).to_digit(16)?;
            let lo = char::from(raw.next()?).to_digit(16)?;
            bytes.push(u8::try_from(hi * 16 + lo).ok()?);
        } else {
            bytes.push(c);
        }
    }
    String::from_utf8(bytes).ok()
}
