//! The headers every response of an area carries, whatever its status: the widget is
//! fetched cross-origin by the sites that embed it (CORS and CORP open to all), the console
//! and the demo are pages of this origin only (a strict Content-Security-Policy; the console
//! also requires Trusted Types).

use crate::assets::Area;

/// The Content-Security-Policy of the demo's pages.
pub const PAGE_CSP: &str = "default-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
    form-action 'self'";

/// The Content-Security-Policy of the console's pages: the page policy and Trusted Types.
pub const CONSOLE_CSP: &str = "default-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
    form-action 'self'; require-trusted-types-for 'script'";

/// The headers (lower-case name, value) of every response in `area`.
pub(crate) fn headers(area: Area) -> &'static [(&'static str, &'static str)] {
    const WIDGET: &[(&str, &str)] = &[
        ("cache-control", "no-cache"),
        ("x-content-type-options", "nosniff"),
        ("access-control-allow-origin", "*"),
        ("cross-origin-resource-policy", "cross-origin"),
    ];
    const CONSOLE: &[(&str, &str)] = &[
        ("cache-control", "no-cache"),
        ("x-content-type-options", "nosniff"),
        ("content-security-policy", CONSOLE_CSP),
    ];
    const DEMO: &[(&str, &str)] = &[
        ("cache-control", "no-cache"),
        ("x-content-type-options", "nosniff"),
        ("content-security-policy", PAGE_CSP),
    ];
    match area {
        Area::Widget => WIDGET,
        Area::Console => CONSOLE,
        Area::Demo => DEMO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_policy_is_the_page_policy_plus_trusted_types() {
        assert_eq!(
            CONSOLE_CSP,
            format!("{PAGE_CSP}; require-trusted-types-for 'script'")
        );
    }

    #[test]
    fn only_the_widget_is_open_to_other_origins() {
        let has = |area, name: &str| headers(area).iter().any(|(n, _)| *n == name);
        assert!(has(Area::Widget, "access-control-allow-origin"));
        assert!(has(Area::Widget, "cross-origin-resource-policy"));
        assert!(!has(Area::Console, "access-control-allow-origin"));
        assert!(!has(Area::Demo, "access-control-allow-origin"));
        assert!(!has(Area::Widget, "content-security-policy"));
    }
}
