//! The embedded asset table `build.rs` generates, and lookups in it. Nothing here touches
//! the file system at run time: a request can only ever name a file that was embedded.

/// The three served folders under `web/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    /// `web/widget`, served at `/widget/`: the customer widget, embedded by other sites.
    Widget,
    /// `web/console`, served at `/console/`: the agent console.
    Console,
    /// `web/demo`, served at `/` (its `index.html`) and `/demo/`: the sample website.
    Demo,
}

impl Area {
    /// Every area, in table order.
    pub const ALL: [Area; 3] = [Area::Widget, Area::Console, Area::Demo];

    /// The folder's name under `web/`, also the first segment of its URLs.
    pub fn folder(self) -> &'static str {
        match self {
            Area::Widget => "widget",
            Area::Console => "console",
            Area::Demo => "demo",
        }
    }
}

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Which folder it is in.
    pub area: Area,
    /// Its path under the folder, `/`-separated (e.g. `chinwag.js`, `img/logo.svg`).
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes as written.
    pub raw: &'static [u8],
    /// Its gzip form, when that is smaller.
    pub gzip: Option<&'static [u8]>,
    /// The strong ETag of `raw` (quoted).
    pub etag: &'static str,
    /// The strong ETag of `gzip` (quoted; unused without `gzip`).
    pub gzip_etag: &'static str,
}

/// Every embedded asset, sorted by area then path.
static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Every embedded asset, sorted by area then path.
pub fn all() -> &'static [Asset] {
    ASSETS
}

/// The asset at `path` in `area`, if one was embedded.
pub fn find(area: Area, path: &str) -> Option<&'static Asset> {
    ASSETS
        .binary_search_by(|a| (a.area, a.path).cmp(&(area, path)))
        .ok()
        .and_then(|i| ASSETS.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_has_the_demo_page() {
        assert!(
            all()
                .windows(2)
                .all(|w| (w[0].area, w[0].path) < (w[1].area, w[1].path))
        );
        let page = find(Area::Demo, "index.html").map(|a| a.content_type);
        assert_eq!(
            page,
            Some("text/html; charset=utf-8"),
            "web/demo/index.html"
        );
        assert!(find(Area::Demo, "missing.html").is_none());
        assert!(find(Area::Widget, "index.html").is_none());
    }

    #[test]
    fn tooling_and_dotfiles_are_not_embedded() {
        for a in all() {
            let name = a.path.rsplit('/').next().unwrap_or(a.path);
            assert!(!name.starts_with('.'), "{}", a.path);
            assert!(!a.path.contains("node_modules"), "{}", a.path);
            assert!(
                !["tsconfig.json", "eslint.config.js", "package.json"].contains(&name),
                "{}",
                a.path
            );
        }
    }

    #[test]
    fn etags_are_strong_quoted_and_differ_per_encoding() {
        for a in all() {
            assert!(a.etag.starts_with('"') && a.etag.ends_with('"'));
            assert!(!a.etag.starts_with("W/"));
            assert_ne!(a.etag, a.gzip_etag);
        }
    }
}
