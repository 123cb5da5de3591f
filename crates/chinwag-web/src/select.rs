//! Which files under the served folders are assets. Shared with `build.rs`, which applies it
//! while walking the folders, so the rule is written (and tested) once.

/// Folder and file names that are tooling, not assets.
const TOOLING: [&str; 3] = ["node_modules", "tsconfig.json", "eslint.config.js"];

/// Whether a file or folder name is left out: dotfiles and dot-folders, `node_modules`,
/// `package*.json`, `tsconfig.json`, `eslint.config.js`.
pub(crate) fn is_skipped(name: &str) -> bool {
    name.starts_with('.')
        || TOOLING.contains(&name)
        || (name.starts_with("package") && name.ends_with(".json"))
}

/// Letters, digits, `-`, `_` and `.`: a URL path segment as it is, so requests are matched
/// without decoding. Other names are not embedded.
pub(crate) fn url_safe(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tooling_and_dotfiles_are_skipped() {
        for name in [
            ".eslintcache",
            ".git",
            "node_modules",
            "package.json",
            "package-lock.json",
            "tsconfig.json",
            "eslint.config.js",
        ] {
            assert!(is_skipped(name), "{name}");
        }
        for name in ["chinwag.js", "index.html", "packages.js", "config.json"] {
            assert!(!is_skipped(name), "{name}");
        }
    }

    #[test]
    fn only_plain_names_are_url_safe() {
        for name in ["chinwag.js", "logo-2_x.SVG"] {
            assert!(url_safe(name), "{name}");
        }
        for name in ["", "a b.js", "é.css", "x%2e.js", "a?b", "backup.js~"] {
            assert!(!url_safe(name), "{name:?}");
        }
    }
}
