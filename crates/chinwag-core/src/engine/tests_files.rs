//! File limits through the role handles: every limit at its boundary (file size, total,
//! count, what `delete-file` gives back), the declared length refused unread, types judged by
//! content, `upload-need-agent`, download counting, and two uploads racing for the last
//! bytes.

use super::tests_files_kit::*;
use super::tests_shared_store::{creds_of, open_chat};
use super::*;
use crate::files::{FileError, FileSettings};
use crate::roles::files::FileBody;

#[tokio::test]
async fn limits_are_strings_and_usage_follows_uploads() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    let (data, _) = r.customers.file_limits(creds_of(&chat)).await?;
    assert_eq!(
        data.get("upload-max-file-size").map(String::as_str),
        Some("2000")
    );
    assert_eq!(
        data.get("upload-file-types").map(String::as_str),
        Some("png:txt")
    );
    assert_eq!(
        data.get("upload-need-agent").map(String::as_str),
        Some("true")
    );
    assert_eq!(data.get("delete-file").map(String::as_str), Some("true"));
    assert_eq!(data.len(), 10, "{data:?}");
    r.put(&chat, file("a.png", PNG, 700)).await?;
    assert_eq!(r.used(&chat).await?, ["1", "700", "0"]);
    Ok(())
}

#[tokio::test]
async fn the_file_size_cap_holds_at_its_byte() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    r.put(&chat, file("max.png", PNG, 2_000)).await?;
    let over = r.put(&chat, file("over.png", PNG, 2_001)).await;
    assert!(matches!(
        file_err(over),
        FileError::FileTooLarge { max: 2_000 }
    ));
    let announced = FileBody {
        name: "big.png".into(),
        length: Some(2_001),
        body: untouchable(),
    };
    let early = r.customers.upload(creds_of(&chat), announced).await;
    assert!(
        matches!(file_err(early), FileError::FileTooLarge { .. }),
        "refused unread"
    );
    assert_eq!(r.stored(&chat).await?, 1);
    Ok(())
}

#[tokio::test]
async fn the_total_and_the_count_hold_and_delete_gives_a_slot_back() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    let a = r.put(&chat, file("a.png", PNG, 2_000)).await?;
    r.put(&chat, file("b.png", PNG, 2_000)).await?;
    // 1,000 bytes left of 5,000: 1,001 is refused with the total as advice.
    let over = r.put(&chat, file("c.png", PNG, 1_001)).await;
    assert!(matches!(
        file_err(over),
        FileError::TotalTooLarge { max: 5_000 }
    ));
    r.put(&chat, file("c.png", PNG, 1_000)).await?;
    let fourth = r.put(&chat, file("d.txt", b"hi", 2)).await;
    assert!(matches!(
        file_err(fourth),
        FileError::TooManyFiles { max: 3 }
    ));
    r.customers.delete_file(creds_of(&chat), &a).await?;
    assert_eq!(
        r.used(&chat).await?[0],
        "2",
        "delete-file gives the slot back"
    );
    let total = r.put(&chat, file("d.txt", b"hi", 2)).await;
    assert!(
        matches!(file_err(total), FileError::TotalTooLarge { .. }),
        "but not the bytes"
    );
    Ok(())
}

#[tokio::test]
async fn without_delete_file_a_delete_keeps_its_slot() -> Result<(), CoreError> {
    let r = rig(FileSettings {
        max_files: 1,
        delete_gives_slot: false,
        ..rules()
    })
    .await?;
    let chat = r.chat().await?;
    let a = r.put(&chat, file("a.txt", b"one", 3)).await?;
    r.customers.delete_file(creds_of(&chat), &a).await?;
    let again = r.put(&chat, file("b.txt", b"two", 3)).await;
    assert!(matches!(
        file_err(again),
        FileError::TooManyFiles { max: 1 }
    ));
    Ok(())
}

#[tokio::test]
async fn content_decides_the_type_not_the_name() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    let exe = r.put(&chat, file("photo.png", ELF, 100)).await;
    assert!(matches!(file_err(exe), FileError::TypeNotAllowed { .. }));
    let pdf = r.put(&chat, file("a.png", b"%PDF-1.7", 100)).await;
    assert!(
        matches!(file_err(pdf), FileError::TypeNotAllowed { .. }),
        "pdf not allowed here"
    );
    let id = r.put(&chat, file("../../etc/passwd", b"hello", 5)).await?;
    let (info, _) = r.customers.download(creds_of(&chat), &id).await?;
    assert_eq!(
        (info.name.as_str(), info.mime.as_str()),
        ("passwd.txt", "text/plain; charset=utf-8")
    );
    assert_eq!(r.stored(&chat).await?, 1);
    Ok(())
}

#[tokio::test]
async fn uploads_wait_for_an_agent_when_the_service_says_so() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let waiting = open_chat(&r.engine, Selection::Nothing).await?;
    let early = r.put(&waiting, file("a.txt", b"hi", 2)).await;
    assert!(matches!(file_err(early), FileError::NeedAgent));
    r.agents.accept(&r.agent, &waiting.chat_id).await?;
    r.put(&waiting, file("a.txt", b"hi", 2)).await?;
    let free = rig(FileSettings {
        need_agent: false,
        ..rules()
    })
    .await?;
    let alone = open_chat(&free.engine, Selection::Nothing).await?;
    free.put(&alone, file("a.txt", b"hi", 2)).await?;
    Ok(())
}

#[tokio::test]
async fn downloads_are_counted_for_the_customer_only() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    let id = r.put(&chat, file("a.txt", b"bytes", 5)).await?;
    for _ in 0..2 {
        r.customers.download(creds_of(&chat), &id).await?;
    }
    let third = r.customers.download(creds_of(&chat), &id).await;
    assert!(matches!(
        file_err(third),
        FileError::DownloadsUsed { max: 2 }
    ));
    assert_eq!(r.used(&chat).await?[2], "2");
    for _ in 0..3 {
        r.agents.download(&r.agent, &chat.chat_id, &id).await?;
    }
    Ok(())
}

#[tokio::test]
async fn two_uploads_racing_for_the_last_bytes_announce_one() -> Result<(), CoreError> {
    let r = rig(rules()).await?;
    let chat = r.chat().await?;
    r.put(&chat, file("a.png", PNG, 2_000)).await?;
    // 3,000 bytes left: each fits alone, not both.
    let b = r
        .customers
        .upload(creds_of(&chat), file("b.png", PNG, 2_000))
        .await?;
    let c = r
        .customers
        .upload(creds_of(&chat), file("c.png", PNG, 2_000))
        .await?;
    r.customers
        .announce(creds_of(&chat), b, None, Default::default())
        .await?;
    let late = r
        .customers
        .announce(creds_of(&chat), c, None, Default::default())
        .await;
    assert!(matches!(
        file_err(late),
        FileError::TotalTooLarge { max: 5_000 }
    ));
    assert_eq!(r.used(&chat).await?[..2], ["2", "4000"]);
    Ok(())
}
