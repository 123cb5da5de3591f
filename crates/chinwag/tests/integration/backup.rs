//! `chinwag backup` against a running server: the copy, put in a new server's data directory
//! as `chinwag.db`, serves the same transcript; an existing destination is refused.

use crate::common::*;
use std::process::Command;

/// Runs `chinwag backup DEST --data-dir DIR`; returns (success, stdout, stderr).
fn backup(dest: &std::path::Path, data_dir: &std::path::Path) -> R<(bool, String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_chinwag"))
        .arg("backup")
        .arg(dest)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("CHINWAG_CONFIG")
        .env_remove("CHINWAG_DATA_DIR")
        .output()?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_the_same_transcript() -> R {
    let server = Server::start("").await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Backed")]).await?;
    for i in 0..5 {
        let (s, v) = chat.call("send", &[("message", &format!("m{i}"))]).await?;
        assert_eq!(s, 200, "{v}");
    }
    let (_, before) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    let messages = before["messages"].clone();
    assert_eq!(messages.as_array().map(Vec::len), Some(6), "{before}");

    let out = tempfile::tempdir()?;
    let dest = out.path().join("copy.db");
    let data_dir = server.data.join("db");
    let (ok, stdout, stderr) = backup(&dest, &data_dir)?;
    assert!(ok, "backup failed: {stderr}");
    assert!(stdout.contains("written to"), "{stdout}");
    // The server keeps serving after the backup.
    let (s, _) = chat.call("send", &[("message", "after")]).await?;
    assert_eq!(s, 200);
    // Never over an existing file.
    let (ok, _, stderr) = backup(&dest, &data_dir)?;
    assert!(!ok, "a second backup to the same file must fail");
    assert!(stderr.contains("already exists"), "{stderr}");

    // A second server whose data directory holds the copy as chinwag.db.
    let mut restored = Server::start("").await?;
    restored.kill9()?;
    let db = restored.data.join("db");
    for f in ["chinwag.db-wal", "chinwag.db-shm"] {
        let _ = std::fs::remove_file(db.join(f));
    }
    std::fs::copy(&dest, db.join("chinwag.db"))?;
    let restored = restored.restart().await?;
    let there = Chat {
        url: restored.gms("customer-support"),
        ..chat.clone()
    };
    let (s, after) = there
        .call("refresh", &[("transcriptPosition", "1")])
        .await?;
    assert_eq!(s, 200, "{after}");
    assert_eq!(
        after["messages"], messages,
        "the copy holds the transcript as it was when backed up"
    );
    drop(server);
    Ok(())
}

#[tokio::test]
async fn a_backup_without_a_database_says_where_it_looked() -> R {
    let dir = tempfile::tempdir()?;
    let (ok, _, stderr) = backup(&dir.path().join("copy.db"), &dir.path().join("nothing"))?;
    assert!(!ok);
    assert!(stderr.contains("no database at"), "{stderr}");
    assert!(!dir.path().join("copy.db").exists());
    Ok(())
}
