//! The ceiling: the most trivial axum handler, answering a POST with a small JSON body of the
//! same size class as a GMS refresh answer. Nothing real can be faster on this machine.

use axum::Router;
use axum::routing::post;

const BODY: &str = r#"{"messages":[],"chatEnded":false,"statusCode":0,"alias":"1","secureKey":"00000000000000000000000000000000","userId":"0000000000000000","chatId":"0000000000000000","nextPosition":2,"monitored":false}"#;

pub(crate) async fn serve(listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let app = Router::new().route(
        "/{*path}",
        post(|_body: axum::body::Bytes| async { ([("content-type", "application/json")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
