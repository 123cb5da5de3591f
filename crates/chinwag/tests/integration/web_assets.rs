//! The browser assets over real sockets on the real binary (default configuration: the demo
//! is on): every file on disk is served byte for byte, gzip when accepted, with the
//! contract's headers (CSP on the console and the demo, CORS only on the widget), `304` on a
//! known ETag, `HEAD` without a body, plain-text `404` and `405`, and the routes that were
//! there before unchanged.

use crate::common::*;
use crate::web_kit::*;

const PAGE_CSP: &str = "default-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
    form-action 'self'";

/// The URL of a file of `folder`, and the CSP its answers carry (none for the widget).
fn url_and_csp(base: &str, folder: &str, path: &str) -> (String, Option<String>) {
    let url = format!("{base}/{folder}/{path}");
    match folder {
        "widget" => (url, None),
        "console" => (
            url,
            Some(format!("{PAGE_CSP}; require-trusted-types-for 'script'")),
        ),
        _ => (url, Some(PAGE_CSP.to_owned())),
    }
}

fn assert_area_headers(r: &reqwest::Response, folder: &str, csp: Option<&str>, what: &str) {
    assert_eq!(h(r, "cache-control"), "no-cache", "{what}");
    assert_eq!(h(r, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h(r, "content-security-policy"), csp.unwrap_or(""), "{what}");
    let widget = folder == "widget";
    assert_eq!(
        h(r, "access-control-allow-origin"),
        if widget { "*" } else { "" },
        "{what}"
    );
    assert_eq!(
        h(r, "cross-origin-resource-policy"),
        if widget { "cross-origin" } else { "" },
        "{what}"
    );
}

#[tokio::test]
async fn every_file_on_disk_is_served_identically_with_or_without_gzip() -> R {
    let server = Server::start("").await?;
    let mut served = 0;
    for folder in ["widget", "console", "demo"] {
        for path in files_on_disk(folder) {
            let (url, csp) = url_and_csp(&server.base, folder, &path);
            let what = format!("{folder}/{path}");
            let plain = client().get(&url).send().await?;
            assert_eq!(plain.status().as_u16(), 200, "{what}");
            assert_area_headers(&plain, folder, csp.as_deref(), &what);
            assert_eq!(h(&plain, "content-encoding"), "", "{what}");
            let etag = h(&plain, "etag");
            assert!(
                etag.starts_with('"') && etag.ends_with('"'),
                "strong: {etag}"
            );
            let expected_type = match path.rsplit('.').next() {
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("html") => "text/html; charset=utf-8",
                Some("svg") => "image/svg+xml",
                _ => "",
            };
            if !expected_type.is_empty() {
                assert_eq!(h(&plain, "content-type"), expected_type, "{what}");
            }
            let disk = disk_bytes(folder, &path);
            assert_eq!(plain.bytes().await?.as_ref(), &disk[..], "{what}");

            let gz = client()
                .get(&url)
                .header("accept-encoding", "gzip, deflate, br")
                .send()
                .await?;
            assert_eq!(gz.status().as_u16(), 200, "{what}");
            assert_area_headers(&gz, folder, csp.as_deref(), &what);
            let zipped = h(&gz, "content-encoding") == "gzip";
            if zipped {
                assert_eq!(h(&gz, "vary"), "Accept-Encoding", "{what}");
                assert_ne!(h(&gz, "etag"), etag, "each encoding has its own tag");
            }
            let body = gz.bytes().await?;
            let unzipped = if zipped { gunzip(&body) } else { body.to_vec() };
            assert_eq!(unzipped, disk, "{what}");
            served += 1;
        }
    }
    assert!(served >= 2, "at least the demo's page and stylesheet");
    Ok(())
}

#[tokio::test]
async fn the_root_is_the_demo_page_and_etags_revalidate() -> R {
    let server = Server::start("").await?;
    let root = client()
        .get(format!("{}/", server.base))
        .header("accept-encoding", "gzip")
        .send()
        .await?;
    assert_eq!(root.status().as_u16(), 200);
    assert_eq!(h(&root, "content-type"), "text/html; charset=utf-8");
    assert_eq!(h(&root, "content-encoding"), "gzip");
    assert_eq!(h(&root, "vary"), "Accept-Encoding");
    assert_area_headers(&root, "demo", Some(PAGE_CSP), "/");
    let gz_tag = h(&root, "etag");
    let page = gunzip(&root.bytes().await?);
    assert_eq!(page, disk_bytes("demo", "index.html"));
    let html = String::from_utf8(page)?;
    assert!(html.contains(
        r#"<script type="module" src="/widget/chinwag.js" data-service="customer-support">"#
    ));
    assert!(html.contains(r#"href="/console/#demo""#));
    assert!(
        !html.contains("style=") && !html.contains("<style"),
        "no inline styles"
    );

    let again = client()
        .get(format!("{}/", server.base))
        .header("accept-encoding", "gzip")
        .header("if-none-match", &gz_tag)
        .send()
        .await?;
    assert_eq!(again.status().as_u16(), 304);
    assert_eq!(h(&again, "etag"), gz_tag);
    assert_area_headers(&again, "demo", Some(PAGE_CSP), "304");
    assert!(again.bytes().await?.is_empty());
    let changed = client()
        .get(format!("{}/demo/demo.css", server.base))
        .header("if-none-match", &gz_tag)
        .send()
        .await?;
    assert_eq!(
        changed.status().as_u16(),
        200,
        "another file's tag does not match"
    );
    Ok(())
}

#[tokio::test]
async fn head_sends_the_get_headers_and_no_body() -> R {
    let server = Server::start("").await?;
    let get = client()
        .get(format!("{}/demo/demo.css", server.base))
        .send()
        .await?;
    let length = get.bytes().await?.len();
    let raw = raw_exchange(
        &server.addr(),
        "HEAD /demo/demo.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await?;
    let text = String::from_utf8(raw)?;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.ends_with("\r\n\r\n"),
        "nothing after the head: {text:?}"
    );
    let lower = text.to_ascii_lowercase();
    assert!(
        lower.contains(&format!("content-length: {length}\r\n")),
        "{text}"
    );
    assert!(
        lower.contains("content-type: text/css; charset=utf-8\r\n"),
        "{text}"
    );
    assert!(lower.contains("etag: \""), "{text}");
    Ok(())
}

#[tokio::test]
async fn errors_are_plain_text_and_other_routes_are_untouched() -> R {
    let server = Server::start("").await?;
    for (path, folder) in [
        ("/demo/missing.js", "demo"),
        ("/demo/..%2f..%2fCargo.toml", "demo"),
        ("/widget/no-such-file.js", "widget"),
        ("/console/no-such-file.js", "console"),
    ] {
        let r = client()
            .get(format!("{}{path}", server.base))
            .send()
            .await?;
        assert_eq!(r.status().as_u16(), 404, "{path}");
        assert_eq!(h(&r, "content-type"), "text/plain; charset=utf-8", "{path}");
        let csp = url_and_csp("", folder, "").1;
        assert_area_headers(&r, folder, csp.as_deref(), path);
        assert_eq!(r.text().await?, "not found\n");
    }
    // A client that sends `..` as it is (reqwest would resolve it) reaches no file outside.
    for path in ["/demo/../../Cargo.toml", "/widget/../demo/demo.css"] {
        let raw = raw_exchange(
            &server.addr(),
            &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        )
        .await?;
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 404"), "{path}: {text}");
        assert!(text.ends_with("\r\n\r\nnot found\n"), "{path}: {text}");
    }
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        for path in ["/", "/demo/demo.css", "/widget/chinwag.js"] {
            let r = client()
                .request(method.parse()?, format!("{}{path}", server.base))
                .send()
                .await?;
            assert_eq!(r.status().as_u16(), 405, "{method} {path}");
            assert_eq!(h(&r, "allow"), "GET, HEAD", "{method} {path}");
            assert_eq!(h(&r, "content-type"), "text/plain; charset=utf-8");
        }
    }
    let folder = client()
        .get(format!("{}/console", server.base))
        .send()
        .await?;
    assert_eq!(folder.url().path(), "/console/", "redirected to the folder");
    // What was there before: /health, the agent API, GMS, and the JSON 404 elsewhere.
    let health = client()
        .get(format!("{}/health", server.base))
        .send()
        .await?;
    assert_eq!(health.status().as_u16(), 200);
    let me = client()
        .get(format!("{}/agent/v1/me", server.base))
        .send()
        .await?;
    assert_eq!(me.status().as_u16(), 401);
    let gms = client()
        .get(format!("{}/genesys/2/nothing", server.base))
        .send()
        .await?;
    assert_eq!(gms.status().as_u16(), 404);
    assert_eq!(h(&gms, "content-security-policy"), "");
    let other = client()
        .get(format!("{}/favicon.ico", server.base))
        .send()
        .await?;
    assert_eq!(other.status().as_u16(), 404);
    assert_eq!(other.text().await?, r#"{"error":"not found"}"#);
    Ok(())
}
