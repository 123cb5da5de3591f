//! Lingering close (defect 4: "a 2 MB send sometimes ends in a broken pipe on the client ...
//! the server closes while the body is still arriving"). A raw TCP client sends a 2 MB
//! `send` body, far over `max_body_bytes`: the server answers HTTP 400 (GMS code 204) at
//! once, then keeps reading and discarding the rest, so the client writes its whole body
//! without a broken pipe or reset and then reads the answer intact. Done 20 times with the
//! body written as fast as loopback takes it, and 5 times with it arriving over time as on a
//! network (where a server that stops reading early resets the connection every time).

use crate::adv_net::*;
use crate::common::*;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The body: 2 MB of message text after the credentials.
fn request(chat: &Chat) -> Vec<u8> {
    let mut body = format!(
        "userId={}&secureKey={}&message=",
        chat.user_id, chat.secure_key
    )
    .into_bytes();
    body.resize(body.len() + (2 << 20), b'a');
    let path = format!("/genesys/2/chat/customer-support/{}/send", chat.chat_id);
    let form = "application/x-www-form-urlencoded";
    let mut req = post_head(&path, form, body.len(), "").into_bytes();
    req.extend_from_slice(&body);
    req
}

/// Writes `req` whole (in `chunk`-byte writes, `pause` apart), then reads the answer: the
/// write error if any, and the answer.
async fn send_all(addr: &str, req: &[u8], chunk: usize, pause: Duration) -> R<String> {
    let mut s = TcpStream::connect(addr).await?;
    for part in req.chunks(chunk) {
        if let Err(e) = s.write_all(part).await {
            return Ok(format!("write failed: {e}"));
        }
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    let (got, end) = read_until_end(&mut s, within(20)).await;
    if end != End::Closed {
        return Ok(format!("read ended {end:?} after {got:?}"));
    }
    let r = Response::parse(&got)?;
    let code = gms_code(&r.json()?)?;
    Ok(format!("{} {code}", r.status))
}

async fn attempts(n: usize, chunk: usize, pause: Duration) -> R {
    let server = Server::start("").await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Uploader")]).await?;
    let req = request(&chat);
    let mut outcomes = Vec::new();
    for _ in 0..n {
        outcomes.push(send_all(&server.addr(), &req, chunk, pause).await?);
    }
    let bad: Vec<&String> = outcomes.iter().filter(|o| *o != "400 204").collect();
    assert!(bad.is_empty(), "{} of {n} attempts: {bad:?}", bad.len());
    // The chat is untouched and goes on.
    let (s, v) = chat.call("send", &[("message", "small")]).await?;
    assert_eq!((s, v["statusCode"].as_u64()), (200, Some(0)), "{v}");
    Ok(())
}

#[tokio::test]
async fn a_2_mb_body_written_at_once_is_answered_400_intact_20_times() -> R {
    attempts(20, 2 << 20, Duration::ZERO).await
}

#[tokio::test]
async fn a_2_mb_body_arriving_over_time_is_answered_400_without_a_broken_pipe() -> R {
    attempts(5, 64 << 10, Duration::from_millis(5)).await
}
