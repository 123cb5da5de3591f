//! Tests of file-name sanitising, with a property test over arbitrary names.

use super::*;
use proptest::prelude::*;

fn clean(raw: &str) -> String {
    sanitize_file_name(raw, MAX_NAME_BYTES)
}

#[test]
fn path_components_are_dropped() {
    assert_eq!(clean("../../etc/passwd"), "passwd");
    assert_eq!(clean("C:\\Users\\me\\invoice.pdf"), "invoice.pdf");
    assert_eq!(clean("..\\..\\boot.ini"), "boot.ini");
    assert_eq!(clean("a/b\\c/photo.jpg"), "photo.jpg");
    assert_eq!(clean("dir/"), FALLBACK_NAME);
    assert_eq!(clean("foo/.."), FALLBACK_NAME);
}

#[test]
fn control_and_direction_characters_are_removed() {
    assert_eq!(clean("in\u{0}voice\r\n.pdf"), "invoice.pdf");
    assert_eq!(clean("a\u{7f}b\u{85}.txt"), "ab.txt");
    // "photo\u{202E}gpj.exe" shows as "photoexe.jpg" in a right-to-left-aware viewer.
    assert_eq!(clean("photo\u{202E}gpj.exe"), "photogpj.exe");
    assert_eq!(clean("what?<is>:this|\"*.txt"), "what__is__this___.txt");
}

#[test]
fn leading_dots_and_trailing_dots_are_stripped() {
    assert_eq!(clean(".htaccess"), "htaccess");
    assert_eq!(clean("...hidden.txt"), "hidden.txt");
    assert_eq!(clean("report.pdf. . "), "report.pdf");
    assert_eq!(clean("  "), FALLBACK_NAME);
    assert_eq!(clean(""), FALLBACK_NAME);
    assert_eq!(clean("\u{1}\u{2}"), FALLBACK_NAME);
}

#[test]
fn windows_device_names_are_defused() {
    assert_eq!(clean("CON"), "_CON");
    assert_eq!(clean("nul.txt"), "_nul.txt");
    assert_eq!(clean("Com1.tar.gz"), "_Com1.tar.gz");
    assert_eq!(clean("CONSOLE.txt"), "CONSOLE.txt");
    assert_eq!(clean("lpt10.txt"), "lpt10.txt");
    // A cut that would leave a device name: "CON" then spaces, cut before the rest.
    let name = format!("CON{}x.txt", " ".repeat(40));
    let out = sanitize_file_name(&name, 16);
    assert!(!is_reserved(&out), "{out:?}");
    assert!(out.len() <= 16, "{out:?}");
}

#[test]
fn long_names_are_cut_on_a_char_boundary_keeping_the_extension() {
    let long = format!("{}.pdf", "\u{e9}".repeat(200)); // 400 bytes + 4
    let out = clean(&long);
    assert!(out.len() <= MAX_NAME_BYTES);
    assert!(out.ends_with(".pdf"), "{out}");
    assert_eq!(out.len(), 254, "255 minus half of a two-byte char");
    let cut = sanitize_file_name("\u{20ac}\u{20ac}\u{20ac}\u{20ac}\u{20ac}\u{20ac}.docx", 16);
    assert_eq!(cut, "\u{20ac}\u{20ac}\u{20ac}.docx");
    // An extension too long to keep whole is cut like the rest.
    let odd = format!("name.{}", "x".repeat(300));
    assert_eq!(clean(&odd).len(), MAX_NAME_BYTES);
    // Limits under 16 are raised to 16.
    assert_eq!(
        sanitize_file_name("abcdefghijklmnopqrstuvwxyz", 3).len(),
        16
    );
}

proptest! {
    #[test]
    fn output_is_always_safe(raw in any::<String>(), max in 0usize..300) {
        let out = sanitize_file_name(&raw, max);
        prop_assert!(!out.is_empty());
        prop_assert!(out.len() <= max.max(16), "{} bytes", out.len());
        prop_assert!(!out.contains(['/', '\\']), "{out:?}");
        prop_assert!(!out.chars().any(|c| c.is_control() || is_direction_mark(c)), "{out:?}");
        prop_assert!(!out.starts_with('.'), "{out:?}");
        prop_assert!(!is_reserved(&out), "{out:?}");
    }

    #[test]
    fn hostile_names_are_safe(
        parts in proptest::collection::vec("[./\\\\\\x00-\\x1f a-zA-Z\u{202e}\u{e9}]{0,12}", 0..8),
        ext in "(jpg|pdf|txt|exe)?",
    ) {
        let raw = format!("{}.{ext}", parts.join("/"));
        let out = sanitize_file_name(&raw, 32);
        prop_assert!(!out.is_empty() && out.len() <= 32);
        prop_assert!(!out.contains(['/', '\\']) && !out.starts_with('.'), "{out:?}");
        prop_assert!(!out.chars().any(char::is_control), "{out:?}");
    }
}
