//! Stalled request bodies over real sockets: a `Content-Length` larger than what is sent,
//! then silence. The REST API answers HTTP 408 with the GMS error envelope (code 408) once
//! `body_timeout_secs` has passed, for urlencoded and multipart bodies, on request chat and
//! on a chat operation; the CometD long-polling POST (served by the front) and a chunked
//! CometD POST (served by the general server) are closed or answered, never held. Every
//! wait is bounded well below the idle timeout, so a body that is waited for forever fails.

use crate::adv_conncaps::handshake_request;
use crate::adv_net::*;
use crate::common::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const CONFIG: &str = "[server]\nbody_timeout_secs = 2\nidle_timeout_secs = 60\n";

/// Sends `head` and `part` of the body it announces, then nothing: the answer (if any) and
/// how the connection ended, waiting at most 20 s.
async fn stall(addr: &str, head: &str, part: &[u8]) -> R<(Vec<u8>, End)> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(head.as_bytes()).await?;
    s.write_all(part).await?;
    Ok(read_until_end(&mut s, within(20)).await)
}

/// Asserts a GMS 408 answer, then a close.
fn gms_408((got, end): &(Vec<u8>, End)) -> R {
    let r = Response::parse(got)?;
    assert_eq!(r.status, 408, "{:?}", String::from_utf8_lossy(got));
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        r.headers
    );
    assert_eq!(gms_code(&r.json()?)?, 408);
    assert_eq!(end, &End::Closed, "the connection is closed after a 408");
    Ok(())
}

#[tokio::test]
async fn stalled_rest_bodies_get_408_in_the_gms_envelope() -> R {
    let server = Server::start(CONFIG).await?;
    let addr = server.addr();
    let form = "application/x-www-form-urlencoded";
    // Request chat, urlencoded.
    let head = post_head("/genesys/2/chat/customer-support/", form, 100, "");
    gms_408(&stall(&addr, &head, b"nickname=Jo").await?)?;
    // Request chat, multipart: the body stalls inside a field.
    let mp = "multipart/form-data; boundary=XyZ";
    let head = post_head("/genesys/2/chat/customer-support/", mp, 500, "");
    let part = b"--XyZ\r\ncontent-disposition: form-data; name=\"nickname\"\r\n\r\nJo";
    gms_408(&stall(&addr, &head, part).await?)?;
    // A chat operation.
    let (chat, _) = request_chat(&server, &[("nickname", "Stalled")]).await?;
    let path = format!("/genesys/2/chat/customer-support/{}/send", chat.chat_id);
    let first = format!(
        "userId={}&secureKey={}&message=half",
        chat.user_id, chat.secure_key
    );
    let head = post_head(&path, form, first.len() + 50, "");
    gms_408(&stall(&addr, &head, first.as_bytes()).await?)?;
    // Nothing of the stalled send was applied; the chat goes on.
    let (s, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(s, 200);
    assert_eq!(v["messages"].as_array().map(Vec::len), Some(1), "{v}");
    let (s, _) = chat.call("send", &[("message", "whole")]).await?;
    assert_eq!(s, 200);
    Ok(())
}

#[tokio::test]
async fn stalled_cometd_posts_are_closed_or_answered_never_held() -> R {
    let server = Server::start(CONFIG).await?;
    let addr = server.addr();
    // The long-polling front reads the body itself: a stalled one closes the connection
    // without an answer.
    let whole = handshake_request("");
    let cut = whole.len() - 20;
    let head_end = whole
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no head")?
        + 4;
    let mut s = TcpStream::connect(&addr).await?;
    s.write_all(&whole[..cut]).await?;
    let (got, end) = read_until_end(&mut s, within(20)).await;
    assert!(
        matches!(end, End::Closed | End::Reset(_)),
        "front: still open ({end:?})"
    );
    assert!(
        got.is_empty() || Response::parse(&got)?.status >= 400,
        "front: {:?}",
        String::from_utf8_lossy(&got)
    );
    // A chunked body goes to the general server: answered with an error and closed.
    let head = "POST /genesys/cometd HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                transfer-encoding: chunked\r\n\r\n";
    let body = &whole[head_end..head_end + 10];
    let chunk = [format!("{:x}\r\n", 40).as_bytes(), body].concat();
    let (got, end) = stall(&addr, head, &chunk).await?;
    assert!(
        matches!(end, End::Closed | End::Reset(_)),
        "chunked: still open ({end:?})"
    );
    let r = Response::parse(&got)?;
    assert_eq!(
        r.status,
        408,
        "chunked: {:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        String::from_utf8_lossy(&got).contains("not received in time"),
        "the advice says why"
    );
    // The endpoint still serves a whole handshake.
    let (r, _) = exchange(&addr, &handshake_request("connection: close\r\n"), 10).await?;
    assert_eq!(r.json()?[0]["successful"], true);
    Ok(())
}
