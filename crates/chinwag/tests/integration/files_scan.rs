//! The scan hook over the real binary: `[files.scan] command` runs a real script on every
//! upload; a file it rejects answers GMS 203 and is never announced, a clean one is, and a
//! scanner that fails refuses the file as temporary (HTTP 503, `statusCode` 1).

use crate::common::*;
use crate::files_kit::*;
use std::os::unix::fs::PermissionsExt;

/// A scanner script: rejects a file holding `EVIL`, fails on one holding `BROKEN`.
fn script(dir: &std::path::Path) -> R<String> {
    let path = dir.join("scan.sh");
    std::fs::write(
        &path,
        "#!/bin/sh\nbody=$(cat)\ncase \"$body\" in\n*EVIL*) echo 'Test.Signature found'; exit 1;;\n\
         *BROKEN*) exit 2;;\nesac\nexit 0\n",
    )?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(path.to_string_lossy().into_owned())
}

#[tokio::test]
async fn the_scan_command_decides_before_anyone_sees_a_file() -> R {
    let dir = tempfile::tempdir()?;
    let cfg = format!(
        "[services.customer-support.files]\nupload_need_agent = false\n\
         [files.scan]\ncommand = [\"{}\"]\ntimeout_secs = 10\n",
        script(dir.path())?
    );
    let server = Server::start(&cfg).await?;
    let chat = chat_on(&server, "customer-support").await?;
    let (s, v) = upload(&chat, "bad.txt", b"an EVIL file".to_vec()).await?;
    let (code, advice) = gms(&v);
    assert_eq!((s, code), (400, 203), "{v}");
    assert!(advice.contains("Test.Signature found"), "{advice}");
    let (s, v) = upload(&chat, "broken.txt", b"BROKEN".to_vec()).await?;
    assert_eq!(
        (s, &v["statusCode"]),
        (503, &1.into()),
        "a failed scan is temporary: {v}"
    );
    let (s, v) = upload(&chat, "good.txt", b"a good file".to_vec()).await?;
    assert_eq!(s, 200, "{v}");
    let ups = transcript(&chat).await?;
    let names: Vec<_> = ups
        .iter()
        .filter(|e| e["type"] == "FileUploaded")
        .map(|e| e["userData"]["file-name"].clone())
        .collect();
    assert_eq!(names, ["good.txt"], "only the clean file is announced");
    Ok(())
}
