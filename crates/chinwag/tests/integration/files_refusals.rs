//! What an upload or download is refused, over REST against the real binary: content that is
//! a program or not an allowed type (whatever its name), names that try to leave their
//! directory or break a header (made safe in the transcript and in `Content-Disposition`),
//! another chat's file and malformed file ids (GMS 404, no bytes, never a 500),
//! `upload-need-agent`, and a service's `apikey`, which Widgets' download form cannot send.

use crate::common::*;
use crate::files_kit::*;

const CFG: &str = "[services.customer-support.files]\nupload_need_agent = false\n\
    upload_file_types = \"txt:jpg\"\n";

#[tokio::test]
async fn programs_and_types_not_allowed_are_refused_whatever_their_name() -> R {
    let server = Server::start(CFG).await?;
    let chat = chat_on(&server, "customer-support").await?;
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(200, 0);
    let mut mz = b"MZ\x90\0\x03\0\0\0".to_vec();
    mz.resize(200, 0);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    for (name, bytes) in [("photo.jpg", elf), ("photo.jpg", mz), ("a.txt", png)] {
        let (s, v) = upload(&chat, name, bytes).await?;
        assert_eq!((s, gms(&v)), (400, (203, "txt:jpg".into())), "{v}");
    }
    // A JPEG named as a program is kept, under a name that says what it is.
    let (s, v) = upload(&chat, "evil.exe", jpeg(100)).await?;
    assert_eq!(s, 200, "{v}");
    let (_, h, _) = download(&chat, &file_id(&v)?).await?;
    assert_eq!(header(&h, "content-type"), "image/jpeg");
    assert!(
        header(&h, "content-disposition").contains("filename=\"evil.exe.jpg\""),
        "{h:?}"
    );
    let ups = transcript(&chat).await?;
    let ups: Vec<_> = ups.iter().filter(|e| e["type"] == "FileUploaded").collect();
    assert_eq!(ups.len(), 1, "refused files are not announced");
    Ok(())
}

#[tokio::test]
async fn hostile_names_come_back_sanitised() -> R {
    let server = Server::start(CFG).await?;
    let chat = chat_on(&server, "customer-support").await?;
    for (raw, safe) in [
        ("../../x.txt", "x.txt"),
        ("..\\..\\x", "x.txt"),
        ("a\"b;c.txt", "a_b;c.txt"),
    ] {
        let (s, v) = upload(&chat, raw, TEXT.to_vec()).await?;
        assert_eq!(s, 200, "{raw}: {v}");
        let id = file_id(&v)?;
        let events = transcript(&chat).await?;
        let up = events
            .iter()
            .rev()
            .find(|e| e["type"] == "FileUploaded")
            .ok_or("no FileUploaded")?;
        assert_eq!(up["userData"]["file-name"], safe, "{raw}");
        let (s, h, _) = download(&chat, &id).await?;
        assert_eq!(s, 200);
        let cd = header(&h, "content-disposition");
        assert!(
            cd.starts_with(&format!("attachment; filename=\"{safe}\"")),
            "{raw}: {cd}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn another_chats_file_and_malformed_ids_find_nothing() -> R {
    let server = Server::start(CFG).await?;
    let a = chat_on(&server, "customer-support").await?;
    let b = chat_on(&server, "customer-support").await?;
    let (s, v) = upload(&a, "mine.txt", TEXT.to_vec()).await?;
    assert_eq!(s, 200, "{v}");
    let id = file_id(&v)?;
    let (s, _, body) = download(&b, &id).await?;
    assert_ne!(body.as_slice(), TEXT, "another chat's bytes are not served");
    assert_eq!((s, gms(&js(&body)?).0), (400, 404));
    let (s, v) = b.call(&format!("file/{id}/delete"), &[]).await?;
    assert_eq!((s, gms(&v).0), (400, 404));
    let (s, _, body) = download(&a, &id).await?;
    assert_eq!(
        (s, body.as_slice()),
        (200, TEXT),
        "still there for its chat"
    );
    for bad in ["zz", "..%2F..%2Fetc", &"A".repeat(40), &id[..31], "%00"] {
        let (s, _, body) = download(&a, bad).await?;
        let v = js(&body)?;
        assert!(s == 400 || s == 404, "{bad}: {s} {v}");
        assert_eq!(gms(&v).0, 404, "{bad}: {v}");
    }
    Ok(())
}

#[tokio::test]
async fn upload_need_agent_waits_for_an_agent() -> R {
    let cfg = "[services.customer-support.files]\nupload_need_agent = true\n";
    let server = Server::start(cfg).await?;
    let chat = chat_on(&server, "customer-support").await?;
    let (_, v) = chat.call("file/limits", &[]).await?;
    assert_eq!(v["userData"]["upload-need-agent"], "true");
    let (s, v) = upload(&chat, "a.txt", TEXT.to_vec()).await?;
    let (code, advice) = gms(&v);
    assert_eq!((s, code), (400, 400), "{v}");
    assert!(advice.contains("agent"), "{advice}");
    let _ws = agent_joins(&server, &chat).await?;
    let (s, v) = upload(&chat, "a.txt", TEXT.to_vec()).await?;
    assert_eq!(s, 200, "{v}");
    Ok(())
}

#[tokio::test]
async fn a_download_form_needs_no_apikey_but_other_file_operations_do() -> R {
    let cfg = format!("{CFG}[services.customer-support]\napikey = \"sesame\"\n");
    let server = Server::start(&cfg).await?;
    let url = server.gms("customer-support");
    let r = client()
        .post(format!("{url}/"))
        .header("apikey", "sesame")
        .form(&[("nickname", "K")])
        .send()
        .await?;
    let v: serde_json::Value = r.json().await?;
    let get = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let chat = Chat {
        url,
        chat_id: get("chatId"),
        user_id: get("userId"),
        secure_key: get("secureKey"),
    };
    let parts = vec![
        P::F("userId", &chat.user_id),
        P::F("secureKey", &chat.secure_key),
        P::File("a.txt", TEXT.to_vec()),
    ];
    let up_url = format!("{}/{}/file", chat.url, chat.chat_id);
    let (s, _, body) = post_multipart(&up_url, &[], parts).await?;
    assert_eq!((s, gms(&js(&body)?).0), (401, 401), "upload without apikey");
    let parts = vec![
        P::F("userId", &chat.user_id),
        P::F("secureKey", &chat.secure_key),
        P::File("a.txt", TEXT.to_vec()),
    ];
    let (s, _, body) = post_multipart(&up_url, &[("apikey", "sesame")], parts).await?;
    assert_eq!(s, 200);
    let id = file_id(&js(&body)?)?;
    // The browser form: multipart, no apikey header, an Origin (none configured: same host).
    let (s, _, body) = download(&chat, &id).await?;
    assert_eq!((s, body.as_slice()), (200, TEXT));
    let (s, _, body) = download_with(&chat, &id, &[("origin", "https://evil.example")]).await?;
    assert_eq!(
        (s, gms(&js(&body)?).0),
        (403, 403),
        "the origin is still checked"
    );
    let (s, v) = chat.call("file/limits", &[]).await?;
    assert_eq!((s, gms(&v).0), (401, 401));
    let (s, v) = chat.call(&format!("file/{id}/delete"), &[]).await?;
    assert_eq!((s, gms(&v).0), (401, 401));
    Ok(())
}
