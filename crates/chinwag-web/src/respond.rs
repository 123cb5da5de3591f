//! The answer to one request for a file of an area: the asset (gzip when accepted), `304`
//! when the client holds it, `404`/`405` as plain text, `HEAD` with the headers of `GET`.

use crate::assets::{self, Area};
use crate::negotiate::{accepts_gzip, none_match};
use crate::policy;
use axum::body::Body;
use axum::http::header::{
    ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, LOCATION, VARY,
};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;

/// The file at `path` (relative to the area's folder; empty or ending in `/` means that
/// folder's `index.html`) for a request with this method and these headers.
pub(crate) fn file(area: Area, path: &str, method: &Method, headers: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed(area);
    }
    let index;
    let path = if path.is_empty() || path.ends_with('/') {
        index = format!("{path}index.html");
        index.as_str()
    } else {
        path
    };
    let Some(asset) = assets::find(area, path) else {
        return not_found(area);
    };
    let gzip = asset.gzip.filter(|_| accepts_gzip(headers));
    let mut res = Response::builder();
    for (name, value) in policy::headers(area) {
        res = res.header(*name, *value);
    }
    res = res.header(
        ETAG,
        if gzip.is_some() {
            asset.gzip_etag
        } else {
            asset.etag
        },
    );
    if asset.gzip.is_some() {
        res = res.header(VARY, "Accept-Encoding");
    }
    if none_match(headers, &[asset.etag, asset.gzip_etag]) {
        return finish(res.status(StatusCode::NOT_MODIFIED), Body::empty());
    }
    let bytes = gzip.unwrap_or(asset.raw);
    if gzip.is_some() {
        res = res.header(CONTENT_ENCODING, "gzip");
    }
    res = res
        .header(CONTENT_TYPE, asset.content_type)
        .header(CONTENT_LENGTH, bytes.len());
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    finish(res, body)
}

/// `308` to the folder's URL with a trailing slash, so relative URLs in its pages resolve
/// inside it (`Location` is relative: it stays right behind a proxy that adds a prefix).
pub(crate) fn to_folder(area: Area, method: &Method) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return method_not_allowed(area);
    }
    let mut res = Response::builder().status(StatusCode::PERMANENT_REDIRECT);
    for (name, value) in policy::headers(area) {
        res = res.header(*name, *value);
    }
    finish(
        res.header(LOCATION, format!("{}/", area.folder())),
        Body::empty(),
    )
}

/// `404` as plain text.
pub(crate) fn not_found(area: Area) -> Response {
    plain(area, StatusCode::NOT_FOUND, "not found\n")
}

fn method_not_allowed(area: Area) -> Response {
    let mut res = plain(
        area,
        StatusCode::METHOD_NOT_ALLOWED,
        "only GET and HEAD are served here\n",
    );
    res.headers_mut()
        .insert(ALLOW, axum::http::HeaderValue::from_static("GET, HEAD"));
    res
}

/// A plain-text answer with the area's headers.
fn plain(area: Area, status: StatusCode, text: &'static str) -> Response {
    let mut res = Response::builder().status(status);
    for (name, value) in policy::headers(area) {
        res = res.header(*name, *value);
    }
    finish(
        res.header(CONTENT_TYPE, "text/plain; charset=utf-8"),
        Body::from(text),
    )
}

fn finish(builder: axum::http::response::Builder, body: Body) -> Response {
    // Every header above is a valid constant or number, so building cannot fail; if it ever
    // did, a bare 500 is still an answer.
    builder.body(body).unwrap_or_else(|_| {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        res
    })
}
