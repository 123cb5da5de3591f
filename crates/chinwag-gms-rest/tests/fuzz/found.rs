//! What the fuzz targets found, pinned as plain tests: a path segment that is not UTF-8 once
//! percent-decoded gets a GMS error (it used to get axum's plain-text rejection).

use crate::requests::app;
use crate::support::answered;
use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::Value;
use tower::ServiceExt;

#[test]
fn undecodable_paths_get_a_gms_error() {
    answered(async {
        let app = app().await.unwrap();
        for (method, path) in [
            (Method::POST, "/genesys/2/chat/svc/%FF/send"),
            (Method::POST, "/genesys/2/chat/%C3%28"),
            (Method::POST, "/genesys/2/chat/svc/c/%A0"),
            (Method::GET, "/genesys/x/%A0"),
        ] {
            let mut req = Request::new(Body::empty());
            *req.method_mut() = method;
            *req.uri_mut() = path.parse().unwrap();
            let res = app
                .clone()
                .oneshot(req)
                .await
                .unwrap_or_else(|e| match e {});
            assert_eq!(res.status(), 400, "{path}");
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json"),
                "{path}"
            );
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["statusCode"], 2, "{path}: {v}");
            assert_eq!(v["errors"][0]["code"], 400, "{path}: {v}");
        }
        // A preflight to such a path is still answered as one.
        let mut req = Request::new(Body::empty());
        *req.method_mut() = Method::OPTIONS;
        *req.uri_mut() = "/genesys/2/chat/svc/%FF/send".parse().unwrap();
        let res = app
            .clone()
            .oneshot(req)
            .await
            .unwrap_or_else(|e| match e {});
        assert_eq!(res.status(), 204);
    })
    .unwrap();
}
