//! Tests of `[services.<name>.files]` and `[files]`: defaults, every key, refusals.

use super::*;

fn parse(text: &str) -> anyhow::Result<FilesConfig> {
    Ok(toml::from_str(text)?)
}

#[test]
fn the_defaults_are_the_engines() -> anyhow::Result<()> {
    let s = FilesConfig::default().settings("x")?;
    let d = FileSettings::default();
    assert_eq!(
        (s.max_file_size, s.max_files, s.max_total_size, s.file_types),
        (d.max_file_size, d.max_files, d.max_total_size, d.file_types)
    );
    assert_eq!(
        (s.download_attempts, s.need_agent, s.delete_gives_slot),
        (d.download_attempts, d.need_agent, d.delete_gives_slot)
    );
    Ok(())
}

#[test]
fn every_key_reaches_the_engine() -> anyhow::Result<()> {
    let s = parse(
        "enabled = false\nupload_max_file_size = 5\nupload_max_files = 2\n\
         upload_max_total_size = 7\nupload_file_types = \"TXT:pdf\"\ndownload_attempts = 3\n\
         upload_need_agent = false\ndelete_file = false\n",
    )?
    .settings("x")?;
    assert!(!s.enabled && !s.need_agent && !s.delete_gives_slot);
    assert_eq!(
        (
            s.max_file_size,
            s.max_files,
            s.max_total_size,
            s.download_attempts
        ),
        (5, 2, 7, 3)
    );
    assert_eq!(s.file_types, "TXT:pdf");
    Ok(())
}

#[test]
fn bad_values_are_refused_with_their_key() -> anyhow::Result<()> {
    for (text, expected) in [
        (
            "upload_max_file_size = 0",
            "services.x.files.upload_max_file_size",
        ),
        (
            "upload_max_total_size = 0",
            "upload_max_total_size must be at least 1",
        ),
        ("upload_max_files = 0", "upload_max_files"),
        ("download_attempts = 0", "download_attempts"),
        ("upload_file_types = \"\"", "at least one extension"),
        (
            "upload_file_types = \"jpg:exe\"",
            "'exe' is not an extension",
        ),
        ("upload_file_types = \"jpg::png\"", "'' is not an extension"),
    ] {
        let e = parse(text)?.settings("x").err().map(|e| e.to_string());
        assert!(
            e.as_deref().is_some_and(|m| m.contains(expected)),
            "{text}: {e:?}"
        );
    }
    Ok(())
}

#[test]
fn fs_on_redis_needs_a_shared_directory_and_s3_its_settings() -> anyhow::Result<()> {
    let dir = Path::new("/data");
    let unset = FileStoreConfig::default();
    assert!(
        matches!(unset.target(dir, false)?, FileStore::Fs { dir: p, direct_io: true } if p == dir.join("files"))
    );
    assert!(matches!(unset.target(dir, true)?, FileStore::Off));
    let fs = FileStoreConfig {
        store: Some("fs".into()),
        ..FileStoreConfig::default()
    };
    let refused = fs.target(dir, true).err().map(|e| e.to_string());
    assert!(refused.is_some_and(|m| m.contains("fs_shared")));
    let shared = FileStoreConfig {
        fs_shared: true,
        ..fs
    };
    assert!(shared.target(dir, true).is_ok());
    let buffered: FileStoreConfig = toml::from_str("fs_direct_io = false\n")?;
    assert!(matches!(
        buffered.target(dir, false)?,
        FileStore::Fs {
            direct_io: false,
            ..
        }
    ));
    let mut s3: FileStoreConfig = toml::from_str(
        "store = \"s3\"\n[s3]\nendpoint = \"http://127.0.0.1:9000\"\nbucket = \"b\"\n\
         access_key = \"a\"\nsecret_key = \"s\"\n",
    )?;
    let e = s3.target(dir, true).err().map(|e| e.to_string());
    assert!(e.is_some_and(|m| m.contains("allow_http")));
    s3.s3.allow_http = true;
    assert!(matches!(s3.target(dir, true)?, FileStore::S3(c) if c.region == "us-east-1"));
    let other = FileStoreConfig {
        store: Some("nfs".into()),
        ..FileStoreConfig::default()
    };
    assert!(other.target(dir, false).is_err());
    Ok(())
}
