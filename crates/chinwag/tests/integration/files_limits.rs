//! Every file limit at its boundary, over REST against the real binary: the file size cap
//! exactly and one byte over (202, the cap as advice), the total size (202), the number of
//! files (201), download attempts, and `delete-file` giving a slot back or not.

use crate::common::*;
use crate::files_kit::*;

const CFG: &str = "[services.customer-support.files]\nupload_need_agent = false\n\
    upload_max_file_size = 1000\nupload_max_files = 3\nupload_max_total_size = 2500\n\
    download_attempts = 2\nupload_file_types = \"txt\"\n\
    [services.strict.files]\nupload_need_agent = false\nupload_max_files = 3\n\
    delete_file = false\nupload_file_types = \"txt\"\n";

async fn refused(chat: &Chat, len: usize) -> R<(u16, u64, String)> {
    let (s, v) = upload(chat, "f.txt", text(len)).await?;
    let (code, advice) = gms(&v);
    Ok((s, code, advice))
}

#[tokio::test]
async fn the_file_size_and_total_size_caps_hold_at_the_byte() -> R {
    let server = Server::start(CFG).await?;
    let chat = chat_on(&server, "customer-support").await?;
    assert_eq!(refused(&chat, 1001).await?, (400, 202, "1000".into()));
    let (s, v) = upload(&chat, "f.txt", text(1000)).await?;
    assert_eq!(s, 200, "{v}");
    let (s, v) = upload(&chat, "f.txt", text(1000)).await?;
    assert_eq!(s, 200, "{v}");
    // 2000 used of 2500: 501 more is one byte too many, 500 fits exactly.
    assert_eq!(refused(&chat, 501).await?, (400, 202, "2500".into()));
    let (s, v) = upload(&chat, "f.txt", text(500)).await?;
    assert_eq!(s, 200, "{v}");
    let (_, v) = chat.call("file/limits", &[]).await?;
    assert_eq!(
        (
            &v["userData"]["used-upload-max-files"],
            &v["userData"]["used-upload-max-total-size"]
        ),
        (&"3".into(), &"2500".into())
    );
    Ok(())
}

#[tokio::test]
async fn the_number_of_files_and_of_downloads_hold_at_n() -> R {
    let server = Server::start(CFG).await?;
    let chat = chat_on(&server, "customer-support").await?;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (s, v) = upload(&chat, "f.txt", text(10)).await?;
        assert_eq!(s, 200, "{v}");
        ids.push(file_id(&v)?);
    }
    assert_eq!(refused(&chat, 10).await?, (400, 201, "3".into()));
    for _ in 0..2 {
        let (s, _, body) = download(&chat, &ids[0]).await?;
        assert_eq!((s, body), (200, text(10)));
    }
    let (s, _, body) = download(&chat, &ids[0]).await?;
    let (code, advice) = gms(&js(&body)?);
    assert_eq!((s, code), (400, 400));
    assert!(
        advice.contains("download limit reached (limit 2)"),
        "{advice}"
    );
    // Another file has its own count.
    let (s, _, body) = download(&chat, &ids[1]).await?;
    assert_eq!((s, body), (200, text(10)));
    Ok(())
}

#[tokio::test]
async fn delete_file_gives_a_slot_back_only_when_on() -> R {
    let server = Server::start(CFG).await?;
    for (service, slot_back) in [("customer-support", true), ("strict", false)] {
        let chat = chat_on(&server, service).await?;
        let mut ids = Vec::new();
        for _ in 0..3 {
            let (s, v) = upload(&chat, "f.txt", text(10)).await?;
            assert_eq!(s, 200, "{service}: {v}");
            ids.push(file_id(&v)?);
        }
        let (s, v) = chat.call(&format!("file/{}/delete", ids[0]), &[]).await?;
        assert_eq!(s, 200, "{service}: {v}");
        let (_, v) = chat.call("file/limits", &[]).await?;
        let used = if slot_back { "2" } else { "3" };
        assert_eq!(v["userData"]["used-upload-max-files"], used, "{service}");
        assert_eq!(
            v["userData"]["delete-file"],
            if slot_back { "true" } else { "false" }
        );
        let (s, v) = upload(&chat, "f.txt", text(10)).await?;
        if slot_back {
            assert_eq!(s, 200, "{service}: {v}");
        } else {
            assert_eq!((s, gms(&v).0), (400, 201), "{service}: {v}");
        }
    }
    Ok(())
}
