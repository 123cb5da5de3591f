//! Counting the requests each adapter answers (`chinwag_http_requests_total{adapter,status}`):
//! a layer on each adapter's router, so the label is fixed where the router is mounted. The
//! Bayeux long-polling front, which answers outside the routers, counts its own.

use axum::Router;
use axum::extract::Request;
use axum::middleware::{Next, from_fn};

/// `router` with its answers counted under `adapter` (a handler's panic, answered `500` by
/// the inner catch-panic layer, counts as a `5xx`).
pub(crate) fn counted(router: Router, adapter: &'static str) -> Router {
    router
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(from_fn(move |req: Request, next: Next| async move {
            let res = next.run(req).await;
            chinwag_http::requests::count_request(adapter, res.status().as_u16());
            res
        }))
}
