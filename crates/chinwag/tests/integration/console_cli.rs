//! `chinwag agent add|passwd` run for real: the hash lands in the file with its comments and
//! layout kept, duplicates, unknown ids and short passwords are refused with a reason, a bad
//! hash is a configuration error, and the server signs in with the password written.

use crate::common::*;
use crate::console_kit::*;

const HEAD: &str = "# Our chat server.\n[server]\n# Behind the proxy.\ntrusted_proxies = [] # none yet\n\n[queues.default]\n[queues.sales]\n";

#[tokio::test]
async fn add_then_passwd_then_sign_in_with_the_new_password() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("chinwag.toml");
    std::fs::write(&path, HEAD)?;
    let p = path.to_str().ok_or("path")?;
    let add = [
        "agent",
        "add",
        "alice",
        "--name",
        "Alice A.",
        "--queues",
        "default,sales",
        "--capacity",
        "2",
        "--role",
        "supervisor",
        "--config",
        p,
    ];
    let (ok, out, err) = cli(&add, "first-password\n")?;
    assert!(ok, "{err}");
    assert!(out.contains("agent 'alice' added"), "{out}");
    let text = std::fs::read_to_string(&path)?;
    assert!(text.starts_with(HEAD), "comments and layout kept:\n{text}");
    assert!(
        text.contains("password_hash = \"$argon2id$v=19$m=19456,t=2,p=1$"),
        "{text}"
    );
    assert!(text.contains("queues = [\"default\", \"sales\"]"), "{text}");
    assert!(!text.contains("first-password"), "only the hash");

    let (ok, _, err) = cli(&add, "another-password\n")?;
    assert!(!ok && err.contains("agent 'alice' already exists"), "{err}");
    let (ok, _, err) = cli(&["agent", "passwd", "zed", "--config", p], "whatever-pw\n")?;
    assert!(!ok && err.contains("no agent 'zed'"), "{err}");
    let (ok, _, err) = cli(&["agent", "passwd", "alice", "--config", p], "short\n")?;
    assert!(!ok && err.contains("at least 8 characters"), "{err}");
    let (ok, _, err) = cli(
        &["agent", "add", "bob", "--queues", "nope", "--config", p],
        "",
    )?;
    assert!(
        !ok && err.contains("queue 'nope' is not configured"),
        "{err}"
    );
    let (ok, _, err) = cli(&["agent", "add", "bob", "--config", p], "")?;
    assert!(
        !ok && err.contains("no password on standard input"),
        "{err}"
    );
    assert!(
        std::fs::read_to_string(&path)? == text,
        "nothing written by a refusal"
    );

    let (ok, _, err) = cli(
        &["agent", "passwd", "alice", "--config", p],
        "second-password\n",
    )?;
    assert!(ok, "{err}");
    let text2 = std::fs::read_to_string(&path)?;
    assert_ne!(text, text2);
    assert!(text2.starts_with(HEAD));
    let (ok, out, err) = cli(&["check-config", "--config", p], "")?;
    assert!(ok && out.contains("1 agent(s)"), "{out}{err}");

    let server = Server::start(&text2).await?;
    let old = sign_in(&server, "alice", "first-password").await?;
    assert_eq!(old.status, 401);
    let new = sign_in(&server, "alice", "second-password").await?;
    assert_eq!(new.status, 200, "{}", new.body);
    assert_eq!(new.body["name"], "Alice A.");
    Ok(())
}

#[test]
fn a_bad_hash_or_an_agent_without_credentials_is_a_configuration_error() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("c.toml");
    let p = path.to_str().ok_or("path")?;
    for (text, expected) in [
        (
            "[[agents]]\nid = \"a\"\npassword_hash = \"$argon2id$v=19$nonsense\"\n",
            "agent 'a' password_hash: not an argon2id PHC string",
        ),
        (
            "[[agents]]\nid = \"a\"\n",
            "agent 'a' needs a token, a password_hash, or both",
        ),
    ] {
        std::fs::write(&path, text)?;
        let (ok, _, err) = cli(&["check-config", "--config", p], "")?;
        assert!(!ok && err.contains(expected), "{text}: {err}");
    }
    Ok(())
}

#[test]
fn add_creates_a_missing_file_readable_by_its_owner_only() -> R {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("new.toml");
    let p = path.to_str().ok_or("path")?;
    let (ok, _, err) = cli(
        &["agent", "add", "alice", "--config", p],
        &format!("{PASSWORD}\n"),
    )?;
    assert!(ok, "{err}");
    let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let (ok, _, err) = cli(&["agent", "add", "bob", "--config", p], "")?;
    assert!(!ok, "{err}");
    let (ok, _, err) = cli(&["agent", "add", "--config", p, "x"], "")?;
    assert!(!ok && !err.is_empty());
    let (ok, _, err) = cli(&["agent", "add", "bob"], "")?;
    assert!(!ok && err.contains("--config"), "{err}");
    Ok(())
}
