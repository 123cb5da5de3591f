//! The agent's desk on the real binary: `[presence]` and `[queues.<name>] canned` read from
//! the configuration (the built-in canned responses only without a file; bad values stop
//! the start with a message naming them), and a blind transfer as the GMS customer sees it:
//! the first agent leaves, the second joins.

use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};

const CONFIG: &str = r#"
[presence]
not_ready_reasons = ["Coffee", "Paperwork"]

[services.customer-support]
queue = "sales"

[queues.sales]
canned = [
  { label = "Hi", text = "Hello, how can I help?" },
  { label = "Bye", text = "Goodbye!" },
]

[queues.billing]

[[agents]]
id = "ann"
name = "Ann"
token = "ann-token-123"
queues = ["sales"]

[[agents]]
id = "bob"
name = "Bob"
token = "bob-token-123"
queues = ["billing"]
"#;

#[tokio::test]
async fn presence_and_canned_come_from_the_configuration() -> R {
    let server = Server::start(CONFIG).await?;
    let ann = Agent::new(&server, "ann-token-123");
    let (s, v) = ann.req(Method::GET, "/presence", None).await?;
    assert_eq!(
        (s, &v),
        (200, &json!({"not_ready_reasons": ["Coffee", "Paperwork"]}))
    );
    let (_, status) = ann.req(Method::POST, "/login", None).await?;
    assert_eq!(status["reason"], "Coffee");
    let body = json!({"ready": false, "reason": "Paperwork"});
    let (s, v) = ann.req(Method::PUT, "/state", Some(body)).await?;
    assert_eq!((s, &v["reason"]), (200, &json!("Paperwork")));
    let (s, v) = ann.req(Method::GET, "/canned", None).await?;
    let expected = json!({"queues": [{"queue": "sales", "responses": [
        {"label": "Hi", "text": "Hello, how can I help?"},
        {"label": "Bye", "text": "Goodbye!"}]}]});
    assert_eq!((s, &v), (200, &expected));
    let bob = Agent::new(&server, "bob-token-123");
    let (_, v) = bob.req(Method::GET, "/canned", None).await?;
    assert_eq!(
        v,
        json!({"queues": [{"queue": "billing", "responses": []}]}),
        "a file starts with none"
    );
    Ok(())
}

#[tokio::test]
async fn without_a_file_the_default_queue_has_the_built_in_responses() -> R {
    let server = Server::start("").await?;
    let demo = Agent::new(&server, "demo-agent-token");
    let (s, v) = demo.req(Method::GET, "/canned", None).await?;
    assert_eq!(s, 200, "{v}");
    let labels: Vec<&str> = v["queues"][0]["responses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["label"].as_str())
        .collect();
    assert_eq!(
        labels,
        ["Greeting", "One moment", "Anything else", "Closing"]
    );
    let (_, p) = demo.req(Method::GET, "/presence", None).await?;
    assert_eq!(p["not_ready_reasons"][0], "Break");
    Ok(())
}

/// Runs `chinwag serve` on `config`: it must refuse to start, saying `expected`.
async fn refused(config: &str, expected: &str) -> R {
    let dir = tempfile::tempdir()?;
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, config)?;
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_chinwag"))
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(dir.path().join("d"))
            .arg("--config")
            .arg(&cfg)
            .env_remove("CHINWAG_CONFIG")
            .output(),
    )
    .await??;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{config} started");
    assert!(err.contains(expected), "{config}: {err}");
    Ok(())
}

#[tokio::test]
async fn bad_reasons_and_canned_responses_stop_the_start() -> R {
    refused(
        "[presence]\nnot_ready_reasons = []\n",
        "presence.not_ready_reasons must list 1 to 32 reasons",
    )
    .await?;
    refused(
        "[presence]\nnot_ready_reasons = [\"Lunch\", \"Lunch\"]\n",
        "presence.not_ready_reasons lists \"Lunch\" twice",
    )
    .await?;
    let long = "x".repeat(4097);
    refused(
        &format!("[queues.default]\ncanned = [{{ label = \"L\", text = \"{long}\" }}]\n"),
        "queues.default.canned[0].text must be 1 to 4096 characters",
    )
    .await?;
    refused(
        "[queues.default]\ncanned = [{ label = \"L\" }]\n",
        "missing field `text`",
    )
    .await?;
    Ok(())
}

/// The `type`s and nicknames of a customer's transcript from position 1.
async fn transcript(chat: &Chat) -> R<Vec<(String, String)>> {
    let (s, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(s, 200, "{v}");
    Ok(v["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m: &Value| {
            let s = |x: &Value| x.as_str().unwrap_or("").to_owned();
            (s(&m["type"]), s(&m["from"]["nickname"]))
        })
        .collect())
}

#[tokio::test]
async fn a_customer_sees_a_transferred_chat_change_agents() -> R {
    let server = Server::start(CONFIG).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Joan")]).await?;
    let (ann, bob) = (
        Agent::new(&server, "ann-token-123"),
        Agent::new(&server, "bob-token-123"),
    );
    ann.ready().await?;
    let accept = format!("/offers/{}/accept", chat.chat_id);
    let (s, v) = ann.post(&accept, Value::Null).await?;
    assert_eq!(s, 200, "{v}");
    bob.req(Method::POST, "/login", None).await?; // logged in, not ready
    let transfer = format!("/chats/{}/transfer", chat.chat_id);
    let (s, v) = ann.post(&transfer, json!({"agent": "bob"})).await?;
    assert_eq!(
        (s, &v["events"][0]["kind"]),
        (200, &json!("ParticipantLeft")),
        "{v}"
    );
    let (s, v) = bob.post(&accept, Value::Null).await?;
    assert_eq!((s, &v["queue"]), (200, &json!("sales")), "{v}");
    let seen = transcript(&chat).await?;
    let expected = [
        ("ParticipantJoined", "Joan"),
        ("ParticipantJoined", "Ann"),
        ("ParticipantLeft", "Ann"),
        ("ParticipantJoined", "Bob"),
    ]
    .map(|(t, n)| (t.to_owned(), n.to_owned()));
    assert_eq!(seen, expected);
    Ok(())
}
