//! Shared by the console sign-in tests: the `chinwag agent` CLI run for real, and a client
//! that handles the session cookie by hand (so every header sent is the test's choice).

#![allow(dead_code, unreachable_pub)]

use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

/// A password long enough.
pub const PASSWORD: &str = "correct horse battery";

/// Runs `chinwag <args>` with `stdin` piped in: (success, stdout, stderr).
pub fn cli(args: &[&str], stdin: &str) -> R<(bool, String, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chinwag"))
        .args(args)
        .env_remove("CHINWAG_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(stdin.as_bytes())?;
    let out = child.wait_with_output()?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// A configuration with `head` and then one agent per `(id, password)`, each added with
/// `chinwag agent add` (queue `default`).
pub fn config_with(head: &str, agents: &[(&str, &str)]) -> R<String> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("chinwag.toml");
    std::fs::write(&path, head)?;
    let p = path.to_str().ok_or("path")?;
    for (id, password) in agents {
        let (ok, _, err) = cli(
            &["agent", "add", id, "--config", p],
            &format!("{password}\n"),
        )?;
        assert!(ok, "agent add {id}: {err}");
    }
    Ok(std::fs::read_to_string(&path)?)
}

/// An answer: status, JSON body (Null when empty), headers.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// `error.code`, or "".
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The `name=value` pair of the `Set-Cookie` header, if any.
    pub fn cookie(&self) -> Option<String> {
        let v = self.headers.get("set-cookie")?.to_str().ok()?;
        Some(v.split(';').next()?.to_owned())
    }

    /// The whole `Set-Cookie` header, or "".
    pub fn set_cookie(&self) -> String {
        self.headers
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

/// Sends `method path` under `/agent/v1` with exactly these headers (and a JSON body).
pub async fn send(
    server: &Server,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> R<Answer> {
    let mut rb = client().request(method, format!("{}/agent/v1{path}", server.base));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await?;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await?;
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)?
    };
    Ok(Answer {
        status,
        body,
        headers,
    })
}

/// `POST /session` as the console sends it (same origin, with the CSRF header).
pub async fn sign_in(server: &Server, id: &str, password: &str) -> R<Answer> {
    let origin = server.base.clone();
    send(
        server,
        Method::POST,
        "/session",
        &[("x-chinwag-csrf", "1"), ("origin", &origin)],
        Some(json!({"id": id, "password": password})),
    )
    .await
}

/// Signs in and returns the cookie pair.
pub async fn session(server: &Server, id: &str, password: &str) -> R<String> {
    let a = sign_in(server, id, password).await?;
    assert_eq!(a.status, 200, "{}", a.body);
    Ok(a.cookie().ok_or("no cookie")?)
}
