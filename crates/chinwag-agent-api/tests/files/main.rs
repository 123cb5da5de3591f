//! Agent file transfer over real sockets: uploads (multipart, streamed into the engine and the
//! disk blob store), listing, downloads with their protective headers, deletes, the checks
//! that keep one chat's files out of another's and of agents not in the chat, the size and
//! type rules, and the file events on the agent's stream.

mod app;
#[path = "../serve/mod.rs"]
mod serve;
mod stream;

use app::{App, CAP, R, WAIT, code, file_form, start};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn text_bytes(n: usize) -> Vec<u8> {
    b"hello, files\n".iter().copied().cycle().take(n).collect()
}

#[tokio::test]
async fn an_upload_is_listed_downloaded_byte_for_byte_and_deleted() -> R {
    let app = start().await?;
    let bytes = text_bytes(40_000);
    let form = Form::new()
        .text("description", "the notes")
        .text("userData[topic]", "billing")
        .part("file", Part::bytes(bytes.clone()).file_name("notes.txt"));
    let (status, up) = app.upload("tok", &app.mine, form).await?;
    assert_eq!(status, 200, "{up}");
    assert_eq!(
        (&up["name"], &up["size"], &up["type"], &up["description"]),
        (
            &"notes.txt".into(),
            &40_000.into(),
            &"text/plain; charset=utf-8".into(),
            &"the notes".into()
        ),
        "{up}"
    );
    assert_eq!(up["uploaded_by"]["party_type"], "Agent", "{up}");
    assert_eq!(up["user_data"]["topic"], "billing", "{up}");
    let id = up["id"].as_str().ok_or("no id")?.to_owned();

    // The customer's counts (1 file, 10 bytes in all) do not bind the agent: a second one.
    let (status, second) = app
        .upload("tok", &app.mine, file_form("b.txt", text_bytes(20)))
        .await?;
    assert_eq!(status, 200, "{second}");

    let list: Value = app
        .call(Method::GET, "tok", &format!("/chats/{}/files", app.mine))
        .await?
        .json()
        .await?;
    let files = list["files"].as_array().ok_or("no files")?;
    assert_eq!(files.len(), 2, "{list}");
    assert_eq!(files[0], up, "the list shows the upload's own answer first");

    let file = format!("/chats/{}/files/{id}", app.mine);
    let res = app.call(Method::GET, "tok", &file).await?;
    assert_eq!(res.status().as_u16(), 200);
    let h = res.headers().clone();
    let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(header("content-length"), "40000");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(
        header("content-security-policy"),
        "default-src 'none'; sandbox"
    );
    assert_eq!(header("cache-control"), "no-store");
    assert!(
        res.bytes().await?.as_ref() == bytes.as_slice(),
        "bytes differ"
    );

    let res = app.call(Method::DELETE, "tok", &file).await?;
    assert_eq!(res.status().as_u16(), 204);
    let list: Value = app
        .call(Method::GET, "tok", &format!("/chats/{}/files", app.mine))
        .await?
        .json()
        .await?;
    assert_eq!(list["files"].as_array().map(Vec::len), Some(1), "{list}");
    let res = app.call(Method::GET, "tok", &file).await?;
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(code(&res.json().await?), "no_such_file");
    Ok(())
}

#[tokio::test]
async fn files_are_reached_only_through_their_chat_and_by_its_agents() -> R {
    let app = start().await?;
    let (status, up) = app
        .upload("tok", &app.mine, file_form("a.txt", text_bytes(100)))
        .await?;
    assert_eq!(status, 200, "{up}");
    let id = up["id"].as_str().ok_or("no id")?;
    let expect = async |method: Method, token: &str, path: String, want: (u16, &str)| -> R {
        let res = app.call(method.clone(), token, &path).await?;
        let status = res.status().as_u16();
        let v: Value = res.json().await?;
        assert_eq!((status, code(&v)), want, "{method} {path}: {v}");
        Ok(())
    };
    // Another chat of the same agent's does not have it.
    for m in [Method::GET, Method::DELETE] {
        let path = format!("/chats/{}/files/{id}", app.other);
        expect(m, "tok", path, (404, "no_such_file")).await?;
    }
    // An id that cannot be one is not found either (never a 500).
    for bad in [
        "nope",
        "..%2F..%2Fetc%2Fpasswd",
        &"G".repeat(32),
        &"0".repeat(33),
    ] {
        for m in [Method::GET, Method::DELETE] {
            let path = format!("/chats/{}/files/{bad}", app.mine);
            expect(m, "tok", path, (404, "no_such_file")).await?;
        }
    }
    // An agent not in the chat sees nothing of it.
    let mine = &app.mine;
    expect(
        Method::GET,
        "tok2",
        format!("/chats/{mine}/files"),
        (404, "not_in_chat"),
    )
    .await?;
    for m in [Method::GET, Method::DELETE] {
        let path = format!("/chats/{mine}/files/{id}");
        expect(m, "tok2", path, (404, "not_in_chat")).await?;
    }
    let (status, v) = app
        .upload("tok2", mine, file_form("x.txt", text_bytes(10)))
        .await?;
    assert_eq!((status, code(&v)), (404, "not_in_chat"), "{v}");
    // The file is still there for its chat.
    let res = app
        .call(Method::GET, "tok", &format!("/chats/{mine}/files/{id}"))
        .await?;
    assert_eq!(res.status().as_u16(), 200);
    Ok(())
}

#[tokio::test]
async fn a_program_is_refused_whatever_its_name() -> R {
    let app = start().await?;
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.extend(std::iter::repeat_n(0u8, 200));
    let (status, v) = app
        .upload("tok", &app.mine, file_form("notes.txt", elf))
        .await?;
    assert_eq!((status, code(&v)), (415, "file_type_not_allowed"), "{v}");
    Ok(())
}

/// Sends a request head and `body`, holding the rest of what it announced back; the answer.
async fn send_partly(app: &App, head: &str, body: &[u8]) -> R<String> {
    let mut s = TcpStream::connect(app.addr).await?;
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // Read up to the end of the answer's head and its (small, JSON) body.
    loop {
        let n = tokio::time::timeout(WAIT, s.read(&mut buf)).await??;
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if n == 0 || (text.contains("\r\n\r\n") && text.trim_end().ends_with('}')) {
            return Ok(text.into_owned());
        }
    }
}

#[tokio::test]
async fn a_file_over_the_cap_is_refused_before_it_is_read_whole() -> R {
    let app = start().await?;
    let boundary = "XyZzY";
    let part = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n\
         content-type: text/plain\r\n\r\n"
    );
    // Announces 60 KiB more than it sends, which stays under the route's limit.
    let sent = usize::try_from(CAP)? + 4096;
    let announced = part.len() + sent + 60 * 1024;
    let head = format!(
        "POST /agent/v1/chats/{}/files HTTP/1.1\r\nhost: x\r\nauthorization: Bearer tok\r\n\
         content-type: multipart/form-data; boundary={boundary}\r\n\
         content-length: {announced}\r\n\r\n",
        app.mine
    );
    let mut body = part.into_bytes();
    body.extend(text_bytes(sent));
    let answer = send_partly(&app, &head, &body).await?;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"file_too_large\""), "{answer}");

    // A body announced over the route's limit is refused before any of it is read.
    let head = head.replace(
        &format!("content-length: {announced}"),
        &format!("content-length: {}", 64 << 20),
    );
    let answer = send_partly(&app, &head, b"").await?;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"too_large\""), "{answer}");
    Ok(())
}

#[tokio::test]
async fn a_malformed_upload_is_refused_and_leaves_no_file() -> R {
    let app = start().await?;
    let file = || Part::bytes(text_bytes(100)).file_name("a.txt");
    let cases = [
        ("no file part", Form::new().text("description", "x")),
        (
            "unknown part",
            Form::new().text("colour", "x").part("file", file()),
        ),
        (
            "no filename",
            Form::new().part("file", Part::bytes(text_bytes(9))),
        ),
        (
            "a part after the file",
            Form::new().part("file", file()).text("description", "late"),
        ),
        (
            "fields over the limit",
            Form::new()
                .text("description", "x".repeat(40 * 1024))
                .text("userData[k]", "y".repeat(40 * 1024))
                .part("file", file()),
        ),
    ];
    for (what, form) in cases {
        let (status, v) = app.upload("tok", &app.mine, form).await?;
        assert_eq!((status, code(&v)), (400, "bad_request"), "{what}: {v}");
    }
    let res = app
        .http
        .post(app.url(&format!("/chats/{}/files", app.mine)))
        .bearer_auth("tok")
        .body("not multipart")
        .send()
        .await?;
    assert_eq!(res.status().as_u16(), 400);
    let list: Value = app
        .call(Method::GET, "tok", &format!("/chats/{}/files", app.mine))
        .await?
        .json()
        .await?;
    assert_eq!(list["files"], serde_json::json!([]), "{list}");
    Ok(())
}

#[tokio::test]
async fn a_part_header_longer_than_the_fields_may_be_is_refused_unread() -> R {
    let app = start().await?;
    // 100 KiB of one part's headers, never ended: more than the fields' 64 KiB, less than
    // the route's limit; the rest of the announced body is held back.
    let mut body =
        b"--XyZzY\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nx-pad: "
            .to_vec();
    body.extend(std::iter::repeat_n(b'a', 100 * 1024));
    let head = format!(
        "POST /agent/v1/chats/{}/files HTTP/1.1\r\nhost: x\r\nauthorization: Bearer tok\r\n\
         content-type: multipart/form-data; boundary=XyZzY\r\ncontent-length: {}\r\n\r\n",
        app.mine,
        body.len() + 1024
    );
    let answer = send_partly(&app, &head, &body).await?;
    assert!(
        answer.starts_with("HTTP/1.1 4") && !answer.starts_with("HTTP/1.1 408"),
        "refused as it arrives, not held until the body times out: {answer}"
    );
    Ok(())
}
