//! Helpers of the file-transfer tests: uploads sent as Genesys Widgets send them (multipart,
//! the parts in a chosen order), downloads as their hidden form posts them, file contents
//! of known types, the CometD key of a chat requested over CometD, and an agent joining.

#![allow(dead_code, unreachable_pub)]

use crate::adv_cometd::{Lp, bounded, cometd_url, until};
use crate::common::*;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// A small text file's bytes (typed as text by content).
pub const TEXT: &[u8] = b"hello, this is a text file\n";
/// The start of a JPEG.
pub fn jpeg(len: usize) -> Vec<u8> {
    let mut b = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    b.resize(len.max(b.len()), 0x11);
    b
}
/// A text file of exactly `len` bytes.
pub fn text(len: usize) -> Vec<u8> {
    vec![b'a'; len]
}

/// One part of a multipart body.
pub enum P<'a> {
    /// A text field.
    F(&'a str, &'a str),
    /// The file part `file`, with its file name.
    File(&'a str, Vec<u8>),
}

/// A multipart form of `parts`, in order.
pub fn form(parts: Vec<P<'_>>) -> Form {
    let mut f = Form::new();
    for p in parts {
        f = match p {
            P::F(k, v) => f.text(k.to_owned(), v.to_owned()),
            P::File(name, bytes) => f.part("file", Part::bytes(bytes).file_name(name.to_owned())),
        };
    }
    f
}

/// POSTs a multipart form to `url` with `headers`: (status, headers, body bytes).
pub async fn post_multipart(
    url: &str,
    headers: &[(&str, &str)],
    parts: Vec<P<'_>>,
) -> R<(u16, reqwest::header::HeaderMap, Vec<u8>)> {
    let mut rb = client().post(url).multipart(form(parts));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().await?;
    let (status, h) = (r.status().as_u16(), r.headers().clone());
    Ok((status, h, r.bytes().await?.to_vec()))
}

/// JSON of a body.
pub fn js(body: &[u8]) -> R<Value> {
    Ok(serde_json::from_slice(body)?)
}

/// Uploads over REST: credentials first, then the description and `data`, then the file.
pub async fn upload(chat: &Chat, name: &str, bytes: Vec<u8>) -> R<(u16, Value)> {
    upload_with(chat, name, bytes, &[]).await
}

/// [`upload`] with extra `userData` fields.
pub async fn upload_with(
    chat: &Chat,
    name: &str,
    bytes: Vec<u8>,
    data: &[(&str, &str)],
) -> R<(u16, Value)> {
    let mut parts = vec![
        P::F("userId", &chat.user_id),
        P::F("secureKey", &chat.secure_key),
        P::F("alias", "1"),
    ];
    let keys: Vec<String> = data.iter().map(|(k, _)| format!("userData[{k}]")).collect();
    for (k, (_, v)) in keys.iter().zip(data) {
        parts.push(P::F(k, v));
    }
    parts.push(P::File(name, bytes));
    let url = format!("{}/{}/file", chat.url, chat.chat_id);
    let (s, _, body) = post_multipart(&url, &[], parts).await?;
    Ok((s, js(&body)?))
}

/// The `file-id` of an upload answer.
pub fn file_id(v: &Value) -> R<String> {
    Ok(v["userData"]["file-id"]
        .as_str()
        .ok_or_else(|| format!("no file-id in {v}"))?
        .to_owned())
}

/// Downloads as Widgets' hidden form does (multipart with alias, secureKey, userId).
pub async fn download(chat: &Chat, id: &str) -> R<(u16, reqwest::header::HeaderMap, Vec<u8>)> {
    download_with(chat, id, &[]).await
}

/// [`download`] with request headers.
pub async fn download_with(
    chat: &Chat,
    id: &str,
    headers: &[(&str, &str)],
) -> R<(u16, reqwest::header::HeaderMap, Vec<u8>)> {
    let url = format!("{}/{}/file/{id}/download", chat.url, chat.chat_id);
    let parts = vec![
        P::F("alias", "1"),
        P::F("secureKey", &chat.secure_key),
        P::F("userId", &chat.user_id),
    ];
    post_multipart(&url, headers, parts).await
}

/// A header's value as text ("" when missing).
pub fn header<'h>(h: &'h reqwest::header::HeaderMap, name: &str) -> &'h str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The GMS error code and advice of an error answer.
pub fn gms(v: &Value) -> (u64, String) {
    (
        v["errors"][0]["code"].as_u64().unwrap_or(0),
        v["errors"][0]["advice"].as_str().unwrap_or("").to_owned(),
    )
}

/// Requests a chat on `service`.
pub async fn chat_on(server: &Server, service: &str) -> R<Chat> {
    let url = server.gms(service);
    let (s, v) = post_form(&format!("{url}/"), &[("nickname", "Files")]).await?;
    assert_eq!(s, 200, "{v}");
    let get = |k: &str| v[k].as_str().map(str::to_owned).ok_or(format!("{k}: {v}"));
    Ok(Chat {
        url,
        chat_id: get("chatId")?,
        user_id: get("userId")?,
        secure_key: get("secureKey")?,
    })
}

/// The events of the customer's transcript from position 1.
pub async fn transcript(chat: &Chat) -> R<Vec<Value>> {
    let (s, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(s, 200, "{v}");
    Ok(v["messages"].as_array().cloned().unwrap_or_default())
}

/// A chat requested over CometD (long-polling): its CometD `secureKey`.
pub async fn comet_chat(server: &Server) -> R<String> {
    let lp = Lp::start(&cometd_url(server), Vec::new()).await?;
    let data = json!({"operation": "requestChat", "nickname": "Kim"});
    let channel = "/service/chatV2/customer-support";
    let r = bounded("publish", 10, lp.publish(channel, data)).await?;
    assert_eq!(r["successful"], true, "{r}");
    let task = lp.connect_forever();
    let note = until("the requestChat answer", 10, || lp.notes().first().cloned()).await;
    task.abort();
    let note = note?;
    Ok(note["secureKey"]
        .as_str()
        .ok_or_else(|| format!("no secureKey in {note}"))?
        .to_owned())
}

/// POSTs an urlencoded chat-ntf request: (status, headers, body).
pub async fn ntf(
    server: &Server,
    pairs: &[(&str, &str)],
) -> R<(u16, reqwest::header::HeaderMap, Vec<u8>)> {
    let r = client()
        .post(format!("{}/genesys/2/chat-ntf", server.base))
        .form(pairs)
        .send()
        .await?;
    let (status, h) = (r.status().as_u16(), r.headers().clone());
    Ok((status, h, r.bytes().await?.to_vec()))
}

/// The demo agent, ready with its event stream open, accepts `chat` (keep the stream).
pub async fn agent_joins(
    server: &Server,
    chat: &Chat,
) -> R<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>>
{
    let agent = Agent::new(server, "demo-agent-token");
    let (ws, _) = tokio_tungstenite::connect_async(server.ws_url("demo-agent-token")).await?;
    agent.ready().await?;
    let (s, v) = agent
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    Ok(ws)
}
