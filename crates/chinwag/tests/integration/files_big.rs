//! A 1 GiB upload to a server whose file cap is 1 MiB, over a raw socket with the bytes
//! generated as they are written (never held): announced by `Content-Length` (refused before
//! a byte of it is read, the connection closed after the answer), and sent chunked without
//! one, the file part before or after the credentials (refused at the cap, streamed into
//! the blob store or a temporary file). Each time the answer is GMS 202 with the cap, the
//! chat goes on, and the server's resident memory does not grow by more than 64 MB. And an
//! upload whose body stalls is answered 408, as any late body.

use crate::adv_net::*;
use crate::common::*;
use crate::files_kit::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const CAP: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const BOUNDARY: &str = "chinwagBigUploadBoundary";

/// The server's resident set size, in bytes.
fn rss(pid: u32) -> R<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or("no VmRSS")?;
    Ok(kb * 1024)
}

fn field(name: &str, value: &str) -> String {
    format!("--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
}

/// The multipart text around a file of `GIB` bytes: (before it, after it).
fn around(chat: &Chat, file_first: bool) -> (Vec<u8>, Vec<u8>) {
    let creds = format!(
        "{}{}",
        field("userId", &chat.user_id),
        field("secureKey", &chat.secure_key)
    );
    let file_head = format!(
        "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\ncontent-type: text/plain\r\n\r\n"
    );
    let end = format!("--{BOUNDARY}--\r\n");
    if file_first {
        (
            file_head.into_bytes(),
            format!("\r\n{creds}{end}").into_bytes(),
        )
    } else {
        (
            format!("{creds}{file_head}").into_bytes(),
            format!("\r\n{end}").into_bytes(),
        )
    }
}

/// Sends the upload (`chunked`, or with its `Content-Length`) and returns the answer.
async fn send(server: &Server, chat: &Chat, chunked: bool, file_first: bool) -> R<Response> {
    let (pre, post) = around(chat, file_first);
    let path = format!("/genesys/2/chat/customer-support/{}/file", chat.chat_id);
    let ctype = format!("multipart/form-data; boundary={BOUNDARY}");
    let length = pre.len() as u64 + GIB + post.len() as u64;
    let framing = if chunked {
        "transfer-encoding: chunked".to_owned()
    } else {
        format!("content-length: {length}")
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: {ctype}\r\n{framing}\r\n\r\n"
    );
    let stream = TcpStream::connect(server.addr()).await?;
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        let data = vec![b'a'; 64 << 10];
        let frame = |bytes: &[u8]| -> Vec<u8> {
            if !chunked {
                return bytes.to_vec();
            }
            let mut f = format!("{:x}\r\n", bytes.len()).into_bytes();
            f.extend_from_slice(bytes);
            f.extend_from_slice(b"\r\n");
            f
        };
        let chunk = frame(&data);
        wr.write_all(head.as_bytes()).await?;
        wr.write_all(&frame(&pre)).await?;
        let mut sent = 0;
        while sent < GIB {
            wr.write_all(&chunk).await?;
            sent += data.len() as u64;
        }
        wr.write_all(&frame(&post)).await?;
        if chunked {
            wr.write_all(b"0\r\n\r\n").await?;
        }
        Ok::<u64, std::io::Error>(sent)
    });
    let mut got = Vec::new();
    let mut buf = vec![0u8; 16 << 10];
    let deadline = within(120);
    loop {
        use tokio::io::AsyncReadExt;
        match tokio::time::timeout_at(deadline, rd.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
        if Response::parse(&got).is_ok() {
            break;
        }
    }
    writer.abort();
    Response::parse(&got)
}

#[tokio::test]
async fn a_1_gib_upload_is_refused_without_the_server_growing() -> R {
    let cfg = format!(
        "[services.customer-support.files]\nupload_need_agent = false\nupload_max_file_size = {CAP}\n"
    );
    let server = Server::start(&cfg).await?;
    let chat = chat_on(&server, "customer-support").await?;
    // One upload first, so what every upload allocates is there before the baseline.
    let (s, v) = upload(&chat, "warm.txt", text(CAP as usize)).await?;
    assert_eq!(s, 200, "{v}");
    let base = rss(server.pid())?;
    for (chunked, file_first) in [(false, false), (true, false), (true, true)] {
        let r = send(&server, &chat, chunked, file_first).await?;
        let what = format!("chunked {chunked}, file first {file_first}");
        assert_eq!(r.status, 400, "{what}: {r:?}");
        assert_eq!(
            gms(&r.json()?),
            (202, CAP.to_string()),
            "{what}: the cap as advice"
        );
        if !chunked {
            assert_eq!(r.header("connection"), Some("close"), "{what}");
        }
        let grown = rss(server.pid())?.saturating_sub(base);
        assert!(grown < 64 << 20, "{what}: RSS grew by {grown} bytes");
    }
    // Nothing was announced, and the chat goes on.
    let ups = transcript(&chat).await?;
    assert_eq!(
        ups.iter().filter(|e| e["type"] == "FileUploaded").count(),
        1
    );
    let (s, v) = upload(&chat, "after.txt", TEXT.to_vec()).await?;
    assert_eq!(s, 200, "{v}");
    Ok(())
}

#[tokio::test]
async fn an_upload_that_stalls_is_answered_408() -> R {
    let cfg = "[server]\nbody_timeout_secs = 1\n\
        [services.customer-support.files]\nupload_need_agent = false\n";
    let server = Server::start(cfg).await?;
    let chat = chat_on(&server, "customer-support").await?;
    for file_first in [false, true] {
        let (pre, _) = around(&chat, file_first);
        let path = format!("/genesys/2/chat/customer-support/{}/file", chat.chat_id);
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: multipart/form-data; boundary={BOUNDARY}\r\ncontent-length: 100000\r\n\r\n"
        );
        let mut s = TcpStream::connect(server.addr()).await?;
        s.write_all(head.as_bytes()).await?;
        s.write_all(&pre).await?;
        s.write_all(b"some text, then nothing more").await?;
        let (got, _) = read_until_end(&mut s, within(20)).await;
        let r = Response::parse(&got)?;
        assert_eq!(
            (r.status, gms(&r.json()?).0),
            (408, 408),
            "file first {file_first}"
        );
    }
    assert!(
        transcript(&chat)
            .await?
            .iter()
            .all(|e| e["type"] != "FileUploaded")
    );
    Ok(())
}
