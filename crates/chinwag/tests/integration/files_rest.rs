//! File transfer over GMS REST against the real binary: each operation's exact answer, the
//! file in the customer's transcript, the bytes and headers of a download, the parts of an
//! upload in any order, access for Widgets' download form, and refusals (types, names,
//! another chat's file, malformed ids, upload-need-agent).

use crate::common::*;
use crate::files_kit::*;
use serde_json::{Value, json};

/// Small limits; no agent needed.
const CFG: &str = "[services.customer-support.files]\nupload_need_agent = false\n\
    upload_max_file_size = 1000\nupload_max_files = 3\nupload_max_total_size = 2500\n\
    download_attempts = 2\nupload_file_types = \"txt:jpg\"\n";

fn limits(files: u32, bytes: u64, downloads: u32) -> Value {
    json!({
        "download-attempts": "2", "upload-max-files": "3", "upload-max-file-size": "1000",
        "upload-max-total-size": "2500", "upload-need-agent": "false",
        "upload-file-types": "txt:jpg", "used-upload-max-files": files.to_string(),
        "used-upload-max-total-size": bytes.to_string(),
        "used-download-attempts": downloads.to_string(), "delete-file": "true"
    })
}

fn envelope(extra: Value) -> Value {
    let mut v = json!({
        "messages": [], "chatEnded": false, "statusCode": 0, "alias": "1",
        "secureKey": "<id>", "userId": "<id>", "chatId": "<id>", "monitored": false
    });
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    v
}

#[tokio::test]
async fn limits_upload_download_and_delete_answer_in_the_gms_shapes() -> R {
    let server = Server::start(CFG).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Files")]).await?;
    let (s, v) = chat.call("file/limits", &[]).await?;
    let l = limits(0, 0, 0);
    assert_eq!(
        (s, redact(v)),
        (
            200,
            envelope(json!({"messages": [{"userData": l}], "userData": l}))
        )
    );

    let (s, v) = upload_with(
        &chat,
        "notes.txt",
        TEXT.to_vec(),
        &[("file-description", "March invoice"), ("userKey1", "v1")],
    )
    .await?;
    assert_eq!(s, 200, "{v}");
    let id = file_id(&v)?;
    assert_eq!(redact(v), envelope(json!({"userData": {"file-id": id}})));
    assert_eq!(id.len(), 32);

    let events = transcript(&chat).await?;
    let up = events
        .iter()
        .find(|e| e["type"] == "FileUploaded")
        .ok_or("no FileUploaded")?;
    assert_eq!(up["from"]["type"], "Client");
    assert_eq!(
        up["userData"],
        json!({"file-id": id, "file-name": "notes.txt", "file-size": TEXT.len().to_string(),
               "file-type": "text/plain; charset=utf-8", "file-description": "March invoice",
               "userKey1": "v1"})
    );

    let (s, h, body) = download(&chat, &id).await?;
    assert_eq!((s, body.as_slice()), (200, TEXT));
    assert_eq!(header(&h, "content-type"), "text/plain; charset=utf-8");
    assert_eq!(header(&h, "content-length"), TEXT.len().to_string());
    assert_eq!(
        header(&h, "content-disposition"),
        "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
    );
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert_eq!(
        header(&h, "content-security-policy"),
        "default-src 'none'; sandbox"
    );
    assert_eq!(header(&h, "cache-control"), "no-store");

    let (_, v) = chat.call("file/limits", &[]).await?;
    assert_eq!(v["userData"], limits(1, TEXT.len() as u64, 1), "{v}");

    let (s, v) = chat.call(&format!("file/{id}/delete"), &[]).await?;
    assert_eq!((s, redact(v)), (200, envelope(json!({}))));
    let events = transcript(&chat).await?;
    let del = events
        .iter()
        .find(|e| e["type"] == "FileDeleted")
        .ok_or("no FileDeleted")?;
    assert_eq!(
        del["userData"],
        json!({"file-id": id, "file-name": "notes.txt"})
    );
    let (s, _, body) = download(&chat, &id).await?;
    assert_eq!(
        (s, gms(&js(&body)?).0),
        (400, 404),
        "a deleted file is gone"
    );
    let (_, v) = chat.call("file/limits", &[]).await?;
    assert_eq!(v["userData"], limits(0, TEXT.len() as u64, 1), "{v}");
    Ok(())
}

#[tokio::test]
async fn the_parts_of_an_upload_may_come_in_any_order() -> R {
    let server = Server::start(CFG).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Files")]).await?;
    let url = format!("{}/{}/file", chat.url, chat.chat_id);
    let orders: Vec<Vec<P<'_>>> = vec![
        // The file first: the credentials come after it.
        vec![
            P::File("first.txt", TEXT.to_vec()),
            P::F("userData[file-description]", "d1"),
            P::F("secureKey", &chat.secure_key),
            P::F("userId", &chat.user_id),
        ],
        // The file between the credentials and the data.
        vec![
            P::F("userId", &chat.user_id),
            P::F("secureKey", &chat.secure_key),
            P::File("middle.txt", TEXT.to_vec()),
            P::F("userData[file-description]", "d2"),
            P::F("alias", "1"),
        ],
    ];
    let mut ids = Vec::new();
    for parts in orders {
        let (s, _, body) = post_multipart(&url, &[], parts).await?;
        let v = js(&body)?;
        assert_eq!(s, 200, "{v}");
        ids.push(file_id(&v)?);
    }
    let events = transcript(&chat).await?;
    let ups: Vec<(&Value, &Value)> = events
        .iter()
        .filter(|e| e["type"] == "FileUploaded")
        .map(|e| {
            (
                &e["userData"]["file-name"],
                &e["userData"]["file-description"],
            )
        })
        .collect();
    assert_eq!(
        ups,
        vec![
            (&json!("first.txt"), &json!("d1")),
            (&json!("middle.txt"), &json!("d2"))
        ]
    );
    for id in &ids {
        let (s, _, body) = download(&chat, id).await?;
        assert_eq!((s, body.as_slice()), (200, TEXT));
    }
    // A file part and no credentials at all: refused, and nothing announced.
    let (s, _, body) = post_multipart(&url, &[], vec![P::File("x.txt", TEXT.to_vec())]).await?;
    assert_eq!((s, gms(&js(&body)?).0), (400, 400));
    // Credentials and no file.
    let parts = vec![
        P::F("userId", &chat.user_id),
        P::F("secureKey", &chat.secure_key),
    ];
    let (s, _, body) = post_multipart(&url, &[], parts).await?;
    let (code, advice) = gms(&js(&body)?);
    assert_eq!((s, code), (400, 400));
    assert!(advice.contains("'file'"), "{advice}");
    assert_eq!(transcript(&chat).await?.len(), events.len());
    Ok(())
}
