//! The request-head limit (`max_head_bytes`, 8 KiB by default) over real sockets: a head one
//! field past it is answered `431` whichever path reads it (the first request on a
//! connection, one after a served request, the CometD front), one just under is served, and
//! one past hyper's larger read buffer is refused too. The buffer is larger than the limit
//! so that bodies are read in large chunks (see `chinwag_http::head_limit`); these tests fail
//! if that made longer heads pass.

use crate::adv_net::*;
use crate::common::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// `GET /health` whose head is exactly `len` bytes, padded by one header field.
fn health_head(len: usize) -> String {
    let start = "GET /health HTTP/1.1\r\nhost: x\r\nx-pad: ";
    let pad = len - start.len() - 4;
    format!("{start}{}\r\n\r\n", "a".repeat(pad))
}

/// A CometD handshake whose head is exactly `len` bytes.
fn cometd_head(len: usize) -> String {
    let body = r#"[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}]"#;
    let start = format!(
        "POST /genesys/cometd HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nx-pad: ",
        body.len()
    );
    let pad = len - start.len() - 4;
    format!("{start}{}\r\n\r\n{body}", "a".repeat(pad))
}

async fn status(addr: &str, request: &str) -> R<u16> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(request.as_bytes()).await?;
    Ok(read_response(&mut s, within(10)).await?.status)
}

#[tokio::test]
async fn heads_past_the_limit_get_431_on_every_path() -> R {
    let server = Server::start("").await?;
    let addr = server.addr();
    let limit = 8192;
    assert_eq!(status(&addr, &health_head(limit)).await?, 200);
    assert_eq!(status(&addr, &health_head(limit + 1)).await?, 431);
    assert_eq!(status(&addr, &health_head(60_000)).await?, 431);
    assert_eq!(status(&addr, &health_head(200_000)).await?, 431);
    assert_eq!(status(&addr, &cometd_head(limit)).await?, 200);
    assert_eq!(status(&addr, &cometd_head(limit + 1)).await?, 431);

    // After a served request, on the same connection (hyper reads this head).
    let mut s = TcpStream::connect(&addr).await?;
    assert_eq!(health_on(&mut s, "").await?, 200);
    s.write_all(health_head(limit + 1).as_bytes()).await?;
    assert_eq!(read_response(&mut s, within(10)).await?.status, 431);
    let mut s = TcpStream::connect(&addr).await?;
    assert_eq!(health_on(&mut s, "").await?, 200);
    s.write_all(health_head(limit).as_bytes()).await?;
    assert_eq!(read_response(&mut s, within(10)).await?.status, 200);
    Ok(())
}

#[tokio::test]
async fn a_raised_limit_is_honoured() -> R {
    let server = Server::start("[server]\nmax_head_bytes = 100000\n").await?;
    let addr = server.addr();
    assert_eq!(status(&addr, &health_head(100_000)).await?, 200);
    assert_eq!(status(&addr, &health_head(100_001)).await?, 431);
    Ok(())
}
