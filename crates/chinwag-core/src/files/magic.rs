//! A file's type from its content (magic bytes), never from the client's MIME type or the
//! name it gave: the service's `upload-file-types` (extensions, colon-delimited, as in
//! `jpg:png:gif:pdf:txt:docx`) lists what may be uploaded, and the content must be one of
//! them. Executables (ELF, PE/MZ, Mach-O, Java class, WebAssembly, `#!` scripts) are refused
//! whatever is allowed, so `evil.exe` renamed `photo.jpg` is refused.
//!
//! Signatures are public format facts: JPEG starts `FF D8 FF`, PNG with its 8-byte header,
//! GIF `GIF87a`/`GIF89a`, WebP a RIFF container of form `WEBP`, BMP `BM` with a known DIB
//! header size, PDF `%PDF-`, ZIP containers (`docx`, `xlsx`, `pptx`, OpenDocument) a local
//! file header `PK 03 04`, old Office files (`doc`, `xls`, `ppt`) an OLE2 compound file.
//! Anything else is text only if its first bytes are UTF-8 without NUL.

/// How many first bytes [`sniff`] looks at: callers read up to this much before deciding.
pub const SNIFF_LEN: usize = 512;

/// What a file's content is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// JPEG image.
    Jpeg,
    /// PNG image.
    Png,
    /// GIF image.
    Gif,
    /// WebP image.
    Webp,
    /// Windows bitmap.
    Bmp,
    /// PDF document.
    Pdf,
    /// A ZIP container: Office Open XML (`docx`, `xlsx`, `pptx`), OpenDocument or a zip.
    Zip,
    /// An OLE2 compound file: old Office documents (`doc`, `xls`, `ppt`).
    Ole,
    /// UTF-8 text without NUL.
    Text,
    /// An executable or script: always refused.
    Executable(&'static str),
    /// Nothing recognised.
    Unknown,
}

impl FileKind {
    /// The extensions (lowercase) that name this kind in `upload-file-types`.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Jpeg => &["jpg", "jpeg", "jpe"],
            Self::Png => &["png"],
            Self::Gif => &["gif"],
            Self::Webp => &["webp"],
            Self::Bmp => &["bmp"],
            Self::Pdf => &["pdf"],
            Self::Zip => &["docx", "xlsx", "pptx", "odt", "ods", "odp", "zip"],
            Self::Ole => &["doc", "xls", "ppt"],
            Self::Text => &["txt", "text", "csv", "log"],
            Self::Executable(_) | Self::Unknown => &[],
        }
    }

    /// The MIME type to label a download with.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Bmp => "image/bmp",
            Self::Pdf => "application/pdf",
            Self::Zip => "application/zip",
            Self::Ole => "application/x-ole-storage",
            Self::Text => "text/plain; charset=utf-8",
            Self::Executable(_) | Self::Unknown => "application/octet-stream",
        }
    }
}

/// Why an upload's content was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TypeRefusal {
    /// The content is a program (named), refused whatever is allowed.
    #[error("executable content ({0}) is never accepted")]
    Executable(&'static str),
    /// The content is not one of the allowed types (`None`: not recognised at all).
    #[error("content type not allowed")]
    NotAllowed(Option<FileKind>),
}

/// What `head` (a file's first bytes, up to [`SNIFF_LEN`] or the whole file if shorter) is.
pub fn sniff(head: &[u8]) -> FileKind {
    if let Some(exe) = executable(head) {
        return FileKind::Executable(exe);
    }
    let at = |offset: usize, sig: &[u8]| head.get(offset..offset + sig.len()) == Some(sig);
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        FileKind::Jpeg
    } else if at(0, &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        FileKind::Png
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        FileKind::Gif
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        FileKind::Webp
    } else if is_bmp(head) {
        FileKind::Bmp
    } else if at(0, b"%PDF-") {
        FileKind::Pdf
    } else if at(0, b"PK\x03\x04") {
        FileKind::Zip
    } else if at(0, &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        FileKind::Ole
    } else if is_text(head) {
        FileKind::Text
    } else {
        FileKind::Unknown
    }
}

/// Whether `head` may be uploaded where `allowed` (colon-delimited extensions, any case,
/// a leading dot tolerated) is the service's `upload-file-types`: the content's kind when it
/// may, why not otherwise.
pub fn check_type(head: &[u8], allowed: &str) -> Result<FileKind, TypeRefusal> {
    let kind = sniff(head);
    if let FileKind::Executable(what) = kind {
        return Err(TypeRefusal::Executable(what));
    }
    let permitted = allowed
        .split(':')
        .map(|e| e.trim().trim_start_matches('.'))
        .any(|e| kind.extensions().iter().any(|k| k.eq_ignore_ascii_case(e)));
    if permitted {
        Ok(kind)
    } else if kind == FileKind::Unknown {
        Err(TypeRefusal::NotAllowed(None))
    } else {
        Err(TypeRefusal::NotAllowed(Some(kind)))
    }
}

/// Program signatures and what they are.
const PROGRAMS: [(&[u8], &str); 8] = [
    (b"\x7FELF", "ELF"),
    (b"MZ", "PE/MZ"),
    (&[0xFE, 0xED, 0xFA, 0xCE], "Mach-O"),
    (&[0xFE, 0xED, 0xFA, 0xCF], "Mach-O"),
    (&[0xCE, 0xFA, 0xED, 0xFE], "Mach-O"),
    (&[0xCF, 0xFA, 0xED, 0xFE], "Mach-O"),
    (&[0xCA, 0xFE, 0xBA, 0xBE], "Mach-O universal or Java class"),
    (b"\0asm", "WebAssembly"),
];

/// The kind of program `head` starts, if it is one (a `#!` script even after a UTF-8 BOM).
fn executable(head: &[u8]) -> Option<&'static str> {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if body.starts_with(b"#!") {
        return Some("script");
    }
    PROGRAMS
        .iter()
        .find(|(sig, _)| head.starts_with(sig))
        .map(|(_, name)| *name)
}

/// `BM`, zero reserved bytes, and a DIB header of one of the sizes the format defines, so a
/// text starting "BM" is not taken for a bitmap.
fn is_bmp(head: &[u8]) -> bool {
    let (Some(reserved), Some(dib)) = (head.get(6..10), head.get(14..18)) else {
        return false;
    };
    let dib = u32::from_le_bytes([dib[0], dib[1], dib[2], dib[3]]);
    head.starts_with(b"BM")
        && reserved == [0, 0, 0, 0]
        && matches!(dib, 12 | 40 | 52 | 56 | 64 | 108 | 124)
}

/// UTF-8 without NUL; a character cut off by the end of `head` (a prefix) does not count
/// against it.
fn is_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
#[path = "magic_tests.rs"]
mod tests;
