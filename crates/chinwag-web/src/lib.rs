//! Chinwag's browser assets — the customer widget (`web/widget`), the agent console
//! (`web/console`) and the demo site (`web/demo`) — embedded in the binary at build time and
//! served from memory: gzip when the client accepts it, strong ETags and `304`s,
//! `Cache-Control: no-cache`, `nosniff`, CORS open on the widget only, a strict
//! Content-Security-Policy on the console and the demo. Only `GET` and `HEAD` are served.
//!
//! # Layout
//! - `build.rs`: walks the folders and generates the asset table (bytes, gzip, ETags, types).
//! - [`assets`]: the table and lookups ([`Asset`], [`Area`]).
//! - [`sizes`]: raw and gzip sizes of what is embedded, for the benchmark report.
//! - `select`: which files are assets; `mime`: their `Content-Type`; `squeeze`: their gzip
//!   form (all three run in `build.rs`, and are compiled into the library for their tests).
//! - `negotiate`: `Accept-Encoding` and `If-None-Match`.
//! - `policy`: the headers of each area.
//! - `respond`: one request's answer.
//!
//! The binary merges [`router`] beside its other routes; this crate knows nothing of chat.

pub mod assets;
// `mime`, `select` and `squeeze` run in `build.rs`; compiled here for their tests.
#[cfg(test)]
mod mime;
mod negotiate;
mod policy;
mod respond;
#[cfg(test)]
mod select;
pub mod sizes;
#[cfg(test)]
mod squeeze;

#[cfg(test)]
mod router_tests;

pub use assets::{Area, Asset};
pub use policy::{CONSOLE_CSP, PAGE_CSP};

use axum::Router;
use axum::http::{HeaderMap, Method, Uri};
use axum::routing::any;

/// Which of the optional parts are served (the widget always is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// `/console` and everything under it.
    pub console: bool,
    /// `/` (the demo's `index.html`) and `/demo/…`.
    pub demo: bool,
}

/// The routes of the served parts: `/widget/…`; `/console`, `/console/…` when `console`;
/// `/` and `/demo`, `/demo/…` when `demo`. Every other path is left to the caller's router.
pub fn router(served: Served) -> Router {
    let mut router = mount(Router::new(), Area::Widget);
    if served.console {
        router = mount(router, Area::Console);
    }
    if served.demo {
        router = mount(router, Area::Demo).route(
            "/",
            any(|method: Method, headers: HeaderMap| async move {
                respond::file(Area::Demo, "", &method, &headers)
            }),
        );
    }
    router
}

/// `/<folder>` (redirected to `/<folder>/`), `/<folder>/` (its `index.html`) and the files
/// under it.
fn mount(router: Router, area: Area) -> Router {
    let prefix = format!("/{}", area.folder());
    let files = move |method: Method, uri: Uri, headers: HeaderMap| async move {
        let rest = uri
            .path()
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(area.folder()))
            .and_then(|p| p.strip_prefix('/'));
        match rest {
            Some(rest) => respond::file(area, rest, &method, &headers),
            None => respond::not_found(area),
        }
    };
    router
        .route(
            &prefix,
            any(move |method: Method| async move { respond::to_folder(area, &method) }),
        )
        .route(&format!("{prefix}/"), any(files))
        .route(&format!("{prefix}/{{*path}}"), any(files))
}
