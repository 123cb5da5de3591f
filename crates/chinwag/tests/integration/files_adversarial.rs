//! Hostile multipart bodies on the file routes, over raw sockets against the real binary:
//! a part header section or a preamble that never ends (what the multipart parser holds in
//! memory whole) is refused with GMS 204 as soon as it passes the form limit, on every route
//! that reads multipart (upload, download, chat-ntf), instead of being buffered up to the
//! file-sized body limit until the body deadline.

use crate::common::*;
use crate::files_kit::*;
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CFG: &str = "[services.customer-support.files]\nupload_need_agent = false\n";

/// Sends a request head announcing a file-sized multipart body, then `start` of it (never the
/// rest), and reads the answer (bounded: 60 s, past the default 30 s body deadline).
async fn unfinished(server: &Server, path: &str, start: &[u8]) -> R<(u16, Value)> {
    let mut s = TcpStream::connect(server.addr()).await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=XB\r\n\
         content-length: 5000000\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await?;
    // The server may answer (and stop reading) before all of this is written.
    let _ = s.write_all(start).await;
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n")
                && got.len() > i + 4
                && got.ends_with(b"}")
            {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .map_err(|_| format!("{path}: no answer within 60 s"))?;
    let text = String::from_utf8_lossy(&got).into_owned();
    let status: u16 = text.get(9..12).unwrap_or("0").parse().unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

#[tokio::test]
async fn endless_part_headers_and_preambles_are_refused_at_the_form_limit() -> R {
    let server = Server::start(CFG).await?;
    let chat = chat_on(&server, "customer-support").await?;
    let base = format!("/genesys/2/chat/customer-support/{}", chat.chat_id);
    let mut header = b"--XB\r\ncontent-disposition: form-data; name=\"userId\"\r\nx-pad: ".to_vec();
    header.resize(header.len() + 300_000, b'a');
    let preamble = vec![b'p'; 300_000];
    for path in [
        format!("{base}/file"),
        format!("{base}/file/0123456789ABCDEF0123456789ABCDEF/download"),
        "/genesys/2/chat-ntf".to_owned(),
    ] {
        for (what, start) in [("header", &header), ("preamble", &preamble)] {
            let (s, v) = unfinished(&server, &path, start).await?;
            assert_eq!((s, gms(&v).0), (400, 204), "{path}, {what}: {v}");
        }
    }
    // An ordinary upload still passes the guard.
    let (s, v) = upload(&chat, "a.txt", text(3_000_000)).await?;
    assert_eq!(s, 200, "{v}");
    Ok(())
}
