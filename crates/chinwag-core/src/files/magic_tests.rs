//! Tests of content sniffing and the allowed-types check.

use super::*;

const ALLOWED: &str = "jpg:png:gif:pdf:txt:docx";

fn bmp_head() -> Vec<u8> {
    let mut h = b"BM".to_vec();
    h.extend_from_slice(&[0x46, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0, 40, 0, 0, 0]);
    h.extend_from_slice(&[0; 16]);
    h
}

#[test]
fn each_known_kind_is_recognised() {
    let webp = b"RIFF\x24\0\0\0WEBPVP8 ".to_vec();
    let cases: Vec<(Vec<u8>, FileKind)> = vec![
        (vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J'], FileKind::Jpeg),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), FileKind::Png),
        (b"GIF89a\x01\0".to_vec(), FileKind::Gif),
        (b"GIF87a".to_vec(), FileKind::Gif),
        (webp, FileKind::Webp),
        (bmp_head(), FileKind::Bmp),
        (b"%PDF-1.7\n%\xE2\xE3".to_vec(), FileKind::Pdf),
        (
            b"PK\x03\x04\x14\0\x06\0[Content_Types].xml".to_vec(),
            FileKind::Zip,
        ),
        (
            vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0],
            FileKind::Ole,
        ),
        (
            "Invoice n\u{b0} 12, total 30 \u{20ac}\n"
                .as_bytes()
                .to_vec(),
            FileKind::Text,
        ),
        (Vec::new(), FileKind::Text),
        (vec![0x00, 0x01, 0x02, 0xFF], FileKind::Unknown),
    ];
    for (head, kind) in cases {
        assert_eq!(sniff(&head), kind, "head {head:02X?}");
    }
}

#[test]
fn executables_are_refused_whatever_is_allowed() {
    let all = "jpg:jpeg:png:gif:webp:bmp:pdf:docx:xlsx:doc:txt:exe:zip";
    let programs: [&[u8]; 8] = [
        b"\x7FELF\x02\x01\x01\0",
        b"MZ\x90\0\x03\0\0\0PE",
        &[0xCF, 0xFA, 0xED, 0xFE, 7, 0, 0, 1],
        &[0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 2],
        b"\0asm\x01\0\0\0",
        b"#!/bin/sh\nrm -rf /\n",
        b"\xEF\xBB\xBF#!/usr/bin/env python3\n",
        &[0xFE, 0xED, 0xFA, 0xCE, 0, 0, 0, 7],
    ];
    for head in programs {
        assert!(
            matches!(check_type(head, all), Err(TypeRefusal::Executable(_))),
            "program {head:02X?} was not refused"
        );
    }
}

#[test]
fn a_renamed_executable_is_refused() {
    // evil.exe renamed photo.jpg: the name says jpg, the bytes say PE.
    let evil = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0This program cannot be run in DOS mode";
    assert_eq!(
        check_type(evil, "jpg"),
        Err(TypeRefusal::Executable("PE/MZ"))
    );
}

#[test]
fn content_must_be_an_allowed_kind() {
    let png = b"\x89PNG\r\n\x1a\n";
    assert_eq!(check_type(png, ALLOWED), Ok(FileKind::Png));
    assert_eq!(
        check_type(png, "jpg:pdf"),
        Err(TypeRefusal::NotAllowed(Some(FileKind::Png)))
    );
    // Case, spaces and a leading dot in the configured list do not matter.
    assert_eq!(check_type(png, "JPG: .PNG"), Ok(FileKind::Png));
    // A jpeg allowed as "jpeg" only.
    assert_eq!(check_type(&[0xFF, 0xD8, 0xFF], "jpeg"), Ok(FileKind::Jpeg));
    // docx allowed: a zip container passes; doc not allowed: OLE refused.
    assert_eq!(check_type(b"PK\x03\x04", ALLOWED), Ok(FileKind::Zip));
    let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    assert!(check_type(&ole, ALLOWED).is_err());
    assert_eq!(check_type(&ole, "xls"), Ok(FileKind::Ole));
    // Unrecognised binary is refused even with every extension allowed.
    assert_eq!(
        check_type(&[0, 1, 2, 3], "jpg:txt:bin:dat"),
        Err(TypeRefusal::NotAllowed(None))
    );
    // An empty list allows nothing.
    assert!(check_type(b"hello", "").is_err());
}

#[test]
fn text_is_utf8_without_nul() {
    assert_eq!(check_type(b"plain words", "txt"), Ok(FileKind::Text));
    assert!(check_type(b"nul\0inside", "txt").is_err());
    assert!(check_type(b"latin1 caf\xE9 here", "txt").is_err());
    // A multi-byte character cut off by the end of the sniffed prefix is still text.
    let cut = "caf\u{e9}\u{20ac}".as_bytes();
    assert_eq!(check_type(&cut[..cut.len() - 1], "txt"), Ok(FileKind::Text));
    // Text that happens to start "BM" is not a bitmap, nor is binary with an unknown DIB
    // header size.
    let mut odd_bmp = bmp_head();
    odd_bmp[14] = 99;
    assert_eq!(sniff(&odd_bmp), FileKind::Unknown);
    assert_eq!(sniff(b"BMW service invoice, 2026"), FileKind::Text);
    // A PDF is not text even where only text is allowed.
    assert_eq!(
        check_type(b"%PDF-1.4\n", "txt"),
        Err(TypeRefusal::NotAllowed(Some(FileKind::Pdf)))
    );
}
