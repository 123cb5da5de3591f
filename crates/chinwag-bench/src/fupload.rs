//! The `files` scenario's client: a multipart upload streamed from a repeated chunk (so a
//! client holds one chunk whatever the file size, and a hundred uploads at once cost the
//! generator almost nothing), and a download read to its end, counting bytes.

use crate::gms::{Ids, SERVICE};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Bytes, Frame};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;

const BOUNDARY: &str = "chinwag-bench-boundary-7d1e";
/// Size of the chunk every upload repeats.
pub(crate) const CHUNK: usize = 64 << 10;

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// One chunk of file content: a PNG signature, then bytes that are not all alike.
pub(crate) fn chunk() -> Bytes {
    let mut b: Vec<u8> = (0..CHUNK).map(|i| (i * 31 % 251) as u8).collect();
    b[..8].copy_from_slice(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]);
    Bytes::from(b)
}

/// A streamed multipart body: the credentials, then `size` bytes of `chunk` repeated as the
/// `file` part. Returns the body and its exact length.
fn multipart(ids: &Ids, size: u64, chunk: Bytes) -> (Body, u64) {
    let mut head = String::new();
    for (k, v) in [
        ("userId", &ids.user),
        ("secureKey", &ids.key),
        ("alias", &"1".to_owned()),
    ] {
        head.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    head.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.png\"\r\nContent-Type: image/png\r\n\r\n"
    ));
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let total = head.len() as u64 + size + tail.len() as u64;
    let full = size / CHUNK as u64;
    let rest = (size % CHUNK as u64) as usize;
    let parts = std::iter::once(Bytes::from(head))
        .chain((0..full).map({
            let c = chunk.clone();
            move |_| c.clone()
        }))
        .chain((rest > 0).then(|| chunk.slice(..rest)))
        .chain(std::iter::once(Bytes::from(tail)))
        .map(|b| Ok::<_, Infallible>(Frame::data(b)));
    let stream = futures_util::stream::iter(parts);
    (StreamBody::new(stream).boxed(), total)
}

async fn send(
    addr: &str,
    req: hyper::Request<Body>,
) -> anyhow::Result<hyper::Response<hyper::body::Incoming>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender.send_request(req).await?)
}

/// Uploads `size` bytes into the chat: the new file's id.
pub(crate) async fn upload(
    addr: &str,
    ids: &Ids,
    size: u64,
    chunk: Bytes,
) -> anyhow::Result<String> {
    let (body, len) = multipart(ids, size, chunk);
    let req = hyper::Request::post(format!("{SERVICE}/{}/file", ids.chat))
        .header("host", addr)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("content-length", len)
        .body(body)?;
    let res = send(addr, req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes();
    anyhow::ensure!(
        status == 200,
        "upload answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    v["userData"]["file-id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no file-id in {v}"))
}

/// Downloads a file of the chat: how many bytes came.
pub(crate) async fn download(addr: &str, ids: &Ids, file: &str) -> anyhow::Result<u64> {
    let form = format!("userId={}&secureKey={}&alias=1", ids.user, ids.key);
    let req = hyper::Request::post(format!("{SERVICE}/{}/file/{file}/download", ids.chat))
        .header("host", addr)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            http_body_util::Full::new(Bytes::from(form))
                .map_err(|e| match e {})
                .boxed(),
        )?;
    let res = send(addr, req).await?;
    anyhow::ensure!(res.status() == 200, "download answered {}", res.status());
    let mut body = res.into_body();
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            n += data.len() as u64;
        }
    }
    Ok(n)
}
