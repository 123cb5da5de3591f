//! Slowloris over real sockets: connections trickling a request head a byte at a time are
//! closed once `header_timeout_secs` has passed (on the CometD front path and the general
//! path), while customers on fresh connections are served meanwhile; a head trickled after a
//! served request is cut too; and a silent new connection is held until the idle timeout.
//! Every wait is bounded well below the idle timeout, so a head that is never cut fails.

use crate::adv_conncaps::handshake_request;
use crate::adv_net::*;
use crate::common::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Sends `start`, then one more byte every 250 ms (the head never ends) until the server
/// closes or `deadline`: what came back and how it ended.
async fn trickle(
    mut s: TcpStream,
    start: &str,
    deadline: Instant,
) -> std::io::Result<(Vec<u8>, End)> {
    s.write_all(start.as_bytes()).await?;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        tokio::select! {
            r = s.read(&mut buf) => match r {
                Ok(0) => return Ok((got, End::Closed)),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return Ok((got, End::Reset(e.to_string()))),
            },
            () = tokio::time::sleep(Duration::from_millis(250)) => {
                if Instant::now() > deadline {
                    return Ok((got, End::Open));
                }
                if let Err(e) = s.write_all(b"a").await {
                    return Ok((got, End::Reset(e.to_string())));
                }
            }
        }
    }
}

const COMETD_HEAD: &str = "POST /genesys/cometd HTTP/1.1\r\nhost: x\r\nx-pad: ";
const REST_HEAD: &str = "POST /genesys/2/chat/customer-support/ HTTP/1.1\r\nhost: x\r\nx-pad: ";

/// Asserts the trickle was cut by the server (closed, or reset while writing) without an
/// answer.
fn cut(what: &str, (got, end): &(Vec<u8>, End)) {
    assert!(
        matches!(end, End::Closed | End::Reset(_)),
        "{what}: still open after the bounded wait ({end:?})"
    );
    assert!(got.is_empty(), "{what}: {:?}", String::from_utf8_lossy(got));
}

#[tokio::test]
async fn trickled_heads_are_cut_at_the_header_timeout_while_customers_are_served() -> R {
    let cfg = "[server]\nheader_timeout_secs = 2\nidle_timeout_secs = 60\n";
    let server = Server::start(cfg).await?;
    let addr = server.addr();
    // Cut long before the idle timeout, or the test fails.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut slow = Vec::new();
    for i in 0..20 {
        let head = if i % 2 == 0 { COMETD_HEAD } else { REST_HEAD };
        let s = TcpStream::connect(&addr).await?;
        slow.push((head, tokio::spawn(trickle(s, head, deadline))));
    }
    // Meanwhile customers are served on fresh connections, over both paths.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (chat, _) = request_chat(&server, &[("nickname", "Patient")]).await?;
    let (s, _) = chat.call("send", &[("message", "still served")]).await?;
    assert_eq!(s, 200);
    let (r, _) = exchange(&addr, &handshake_request("connection: close\r\n"), 10).await?;
    assert_eq!((r.status, &r.json()?[0]["successful"]), (200, &true.into()));
    for (head, task) in slow {
        cut(head, &task.await??);
    }
    // And after.
    let (s, _) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(s, 200);
    Ok(())
}

#[tokio::test]
async fn a_head_trickled_after_a_served_request_is_cut_too() -> R {
    // On the general server, one timer of `idle_timeout_secs` covers waiting for the next
    // request and reading its head; the CometD front keeps its header timeout.
    let cfg = "[server]\nheader_timeout_secs = 2\nidle_timeout_secs = 3\n";
    let server = Server::start(cfg).await?;
    let addr = server.addr();
    let deadline = Instant::now() + Duration::from_secs(20);
    // General path: the first request hands the connection to the general server.
    let mut s = TcpStream::connect(&addr).await?;
    assert_eq!(health_on(&mut s, "").await?, 200);
    let general = tokio::spawn(trickle(s, REST_HEAD, deadline));
    // CometD front: the connection stays in the front after its handshake.
    let mut s = TcpStream::connect(&addr).await?;
    s.write_all(&handshake_request("")).await?;
    assert_eq!(read_response(&mut s, within(10)).await?.status, 200);
    let front = tokio::spawn(trickle(s, COMETD_HEAD, deadline));
    cut("general server", &general.await??);
    cut("cometd front", &front.await??);
    Ok(())
}

#[tokio::test]
async fn a_silent_new_connection_is_held_until_the_idle_timeout_not_the_header_timeout() -> R {
    // `header_timeout_secs` runs from a head's first byte: a connection that has sent
    // nothing yet is idle, and `idle_timeout_secs` applies.
    let cfg = "[server]\nheader_timeout_secs = 1\nidle_timeout_secs = 6\n";
    let server = Server::start(cfg).await?;
    let mut s = TcpStream::connect(server.addr()).await?;
    // Well past the header timeout (a slow server only closes it later, never earlier).
    let (got, end) = read_until_end(&mut s, Instant::now() + Duration::from_secs(3)).await;
    assert_eq!(
        (got.as_slice(), &end),
        (&b""[..], &End::Open),
        "a silent connection was closed before its idle timeout"
    );
    // It still carries a request, then is closed once idle for the idle timeout.
    assert_eq!(health_on(&mut s, "").await?, 200);
    let (got, end) = read_until_end(&mut s, within(20)).await;
    assert_eq!((got.as_slice(), &end), (&b""[..], &End::Closed));
    Ok(())
}
