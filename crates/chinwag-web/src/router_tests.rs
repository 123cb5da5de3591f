//! The router as a client sees it, in process: which paths are mounted for which parts,
//! and each answer's status, headers and body (the demo's files are the fixtures; the
//! binary's tests repeat the essentials over real sockets).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{Area, Served, assets, router};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::response::Response;
use http_body_util::BodyExt;
use std::io::Read;
use tower::ServiceExt;

const ALL: Served = Served {
    console: true,
    demo: true,
};

async fn call(served: Served, method: Method, uri: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    router(served)
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn body(res: Response) -> Vec<u8> {
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

fn header<'a>(res: &'a Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn the_root_is_the_demo_page_and_gzip_matches_identity() {
    let page = assets::find(Area::Demo, "index.html").unwrap();
    let plain = call(ALL, Method::GET, "/", &[]).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(
        header(&plain, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(&plain, "content-encoding"), None);
    assert_eq!(header(&plain, "etag"), Some(page.etag));
    assert_eq!(header(&plain, "vary"), Some("Accept-Encoding"));
    assert_eq!(header(&plain, "cache-control"), Some("no-cache"));
    assert_eq!(header(&plain, "x-content-type-options"), Some("nosniff"));
    assert_eq!(
        header(&plain, "content-security-policy"),
        Some(crate::PAGE_CSP)
    );
    assert_eq!(header(&plain, "access-control-allow-origin"), None);
    assert_eq!(body(plain).await, page.raw);

    let gz = call(ALL, Method::GET, "/", &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(header(&gz, "content-encoding"), Some("gzip"));
    assert_eq!(header(&gz, "etag"), Some(page.gzip_etag));
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&body(gz).await[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, page.raw);
}

#[tokio::test]
async fn files_are_under_their_folder_and_folders_redirect_to_their_slash() {
    let css = call(ALL, Method::GET, "/demo/demo.css?v=1", &[]).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        header(&css, "content-type"),
        Some("text/css; charset=utf-8")
    );
    let index = call(ALL, Method::GET, "/demo/", &[]).await;
    assert_eq!(index.status(), StatusCode::OK);
    let bare = call(ALL, Method::HEAD, "/demo", &[]).await;
    assert_eq!(bare.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(header(&bare, "location"), Some("demo/"));
    let console = call(ALL, Method::GET, "/console", &[]).await;
    assert_eq!(header(&console, "location"), Some("console/"));
}

#[tokio::test]
async fn unknown_files_and_other_methods_are_plain_text_errors() {
    for uri in [
        "/demo/nope.css",
        "/demo/../demo/demo.css",
        "/demo/%64emo.css",
        "/widget/",
        "/widget/demo.css",
        "/demo/demo.css/",
    ] {
        let res = call(ALL, Method::GET, uri, &[]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(
            header(&res, "content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(body(res).await, b"not found\n");
    }
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
        let res = call(ALL, method.clone(), "/demo/demo.css", &[]).await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(header(&res, "allow"), Some("GET, HEAD"));
        let root = call(ALL, method.clone(), "/", &[]).await;
        assert_eq!(root.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} /");
    }
}

#[tokio::test]
async fn head_has_the_get_headers_and_no_body() {
    let css = assets::find(Area::Demo, "demo.css").unwrap();
    let res = call(
        ALL,
        Method::HEAD,
        "/demo/demo.css",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let gz_len = css.gzip.unwrap().len().to_string();
    assert_eq!(header(&res, "content-length"), Some(gz_len.as_str()));
    assert_eq!(header(&res, "etag"), Some(css.gzip_etag));
    assert!(body(res).await.is_empty());
}

#[tokio::test]
async fn a_known_etag_answers_304_with_either_encoding_tag() {
    let css = assets::find(Area::Demo, "demo.css").unwrap();
    for (tag, accept) in [
        (css.etag, "identity"),
        (css.gzip_etag, "gzip"),
        (css.etag, "gzip"),
        ("*", "identity"),
    ] {
        let res = call(
            ALL,
            Method::GET,
            "/demo/demo.css",
            &[("if-none-match", tag), ("accept-encoding", accept)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{tag} {accept}");
        let expected = if accept == "gzip" {
            css.gzip_etag
        } else {
            css.etag
        };
        assert_eq!(header(&res, "etag"), Some(expected));
        assert_eq!(header(&res, "vary"), Some("Accept-Encoding"));
        assert!(body(res).await.is_empty());
    }
    let stale = call(
        ALL,
        Method::GET,
        "/demo/demo.css",
        &[("if-none-match", "\"old\"")],
    )
    .await;
    assert_eq!(stale.status(), StatusCode::OK);
}

#[tokio::test]
async fn parts_switched_off_are_not_mounted() {
    let none = Served {
        console: false,
        demo: false,
    };
    for uri in ["/", "/demo/demo.css", "/console/", "/console"] {
        let res = call(none, Method::GET, uri, &[]).await;
        // Unmounted: the caller's fallback answers (here axum's empty 404).
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(header(&res, "content-type"), None, "{uri}");
    }
    let widget = call(none, Method::GET, "/widget/x.js", &[]).await;
    assert_eq!(header(&widget, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&widget, "cross-origin-resource-policy"),
        Some("cross-origin")
    );
    let console = call(ALL, Method::GET, "/console/missing.js", &[]).await;
    assert_eq!(
        header(&console, "content-security-policy"),
        Some(crate::CONSOLE_CSP)
    );
    assert_eq!(header(&console, "access-control-allow-origin"), None);
}
