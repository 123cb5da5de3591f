//! The agent's event stream carries its chats' file events with the file's details in
//! `user_data`.

use crate::app::{App, R, WAIT, start};
use futures_util::StreamExt;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next transcript event of kind `kind` on the stream.
async fn next_event(ws: &mut Ws, kind: &str) -> R<Value> {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await?
            .ok_or("the stream ended")??;
        if let Message::Text(t) = frame {
            let v: Value = serde_json::from_str(t.as_str())?;
            if v["type"] == "event" && v["event"]["kind"] == kind {
                return Ok(v);
            }
        }
    }
}

async fn connect(app: &App) -> R<Ws> {
    let url = format!("ws://{}/agent/v1/events?token=tok", app.addr);
    let (ws, _) = tokio_tungstenite::connect_async(url).await?;
    Ok(ws)
}

#[tokio::test]
async fn the_stream_shows_uploads_and_deletes_with_the_files_details() -> R {
    let app = start().await?;
    let mut ws = connect(&app).await?;
    let file = Part::bytes(b"step one\n".to_vec()).file_name("plan.txt");
    let form = Form::new()
        .text("userData[topic]", "plans")
        .part("file", file);
    let (status, up) = app.upload("tok", &app.mine, form).await?;
    assert_eq!(status, 200, "{up}");
    let id = up["id"].as_str().ok_or("no id")?;

    let v = next_event(&mut ws, "FileUploaded").await?;
    assert_eq!(v["chat_id"], app.mine.as_str(), "{v}");
    let data = &v["event"]["user_data"];
    assert_eq!(data["file-id"], id, "{v}");
    assert_eq!(data["file-name"], "plan.txt", "{v}");
    assert_eq!(data["file-size"], "9", "{v}");
    assert_eq!(data["file-type"], "text/plain; charset=utf-8", "{v}");
    assert_eq!(data["topic"], "plans", "{v}");
    assert_eq!(v["event"]["index"], up["index"], "{v}");

    let path = format!("/chats/{}/files/{id}", app.mine);
    let res = app.call(Method::DELETE, "tok", &path).await?;
    assert_eq!(res.status().as_u16(), 204);
    let v = next_event(&mut ws, "FileDeleted").await?;
    assert_eq!(v["event"]["user_data"]["file-id"], id, "{v}");
    Ok(())
}
