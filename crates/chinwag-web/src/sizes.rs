//! Raw and gzip sizes of the embedded assets, per file and per area, so the benchmark report
//! can quote what a browser downloads (`cargo run -p chinwag-web --example sizes`).

use crate::assets::{self, Area};
use std::fmt::Write as _;

/// One asset's sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetSize {
    /// Its folder.
    pub area: Area,
    /// Its path in the folder.
    pub path: &'static str,
    /// Bytes as written.
    pub raw: usize,
    /// Bytes sent to a client accepting gzip (the raw size when gzip would not be smaller).
    pub sent_gzip: usize,
}

/// Every embedded asset's sizes, in table order.
pub fn all() -> Vec<AssetSize> {
    assets::all()
        .iter()
        .map(|a| AssetSize {
            area: a.area,
            path: a.path,
            raw: a.raw.len(),
            sent_gzip: a.gzip.map_or(a.raw.len(), <[u8]>::len),
        })
        .collect()
}

/// Raw and gzip totals of an area's `.js` and `.css` files (what the size goals count).
pub fn code_totals(area: Area) -> (usize, usize) {
    all()
        .iter()
        .filter(|s| s.area == area && (s.path.ends_with(".js") || s.path.ends_with(".css")))
        .fold((0, 0), |(r, g), s| (r + s.raw, g + s.sent_gzip))
}

/// A plain-text table: every asset, then each area's JS + CSS totals.
pub fn report() -> String {
    let mut out = String::from("area     path                                    raw   gzip\n");
    for s in all() {
        let _ = writeln!(
            out,
            "{:<8} {:<36} {:>7} {:>6}",
            s.area.folder(),
            s.path,
            s.raw,
            s.sent_gzip
        );
    }
    for area in Area::ALL {
        let (raw, gzip) = code_totals(area);
        let _ = writeln!(
            out,
            "{:<8} {:<36} {:>7} {:>6}",
            area.folder(),
            "(all .js + .css)",
            raw,
            gzip
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_cover_every_asset_and_gzip_never_grows_one() {
        let sizes = all();
        assert_eq!(sizes.len(), assets::all().len());
        assert!(sizes.iter().all(|s| s.sent_gzip <= s.raw));
        let Some(css) = sizes
            .iter()
            .find(|s| s.area == Area::Demo && s.path == "demo.css")
        else {
            panic!("web/demo/demo.css is embedded");
        };
        assert!(css.sent_gzip < css.raw, "CSS compresses");
        assert!(code_totals(Area::Demo).1 >= css.sent_gzip);
        assert!(report().contains("demo.css"));
    }
}
