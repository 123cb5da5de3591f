//! Generated accepted inputs survive a kill -9 restart: proptest strings (any Unicode scalar
//! values, newlines and controls included) sent as messages, message types, nicknames,
//! typing previews and userData values are echoed exactly as sent (no silent
//! normalisation), and after SIGKILL and a restart the chat reads back identical.

use crate::adv_restart_inputs::transcript;
use crate::common::*;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

const CONFIG: &str = "
[services.customer-support.limits]
requests_per_ip = { per_second = 0, burst = 0 }
";

/// `n` generated strings of 1 to 300 characters (a fixed seed: the same every run).
fn generated(n: usize) -> R<Vec<String>> {
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::string::string_regex("(?s).{1,300}")?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let tree = strategy
            .new_tree(&mut runner)
            .map_err(|e| format!("cannot generate: {e}"))?;
        out.push(tree.current());
    }
    Ok(out)
}

#[tokio::test]
async fn generated_inputs_are_stored_as_sent_and_survive_kill_9() -> R {
    let server = Server::start(CONFIG).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Gen")]).await?;
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let (status, _) = agent
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(status, 200);
    let http = client();
    let inputs = generated(40)?;
    for (i, s) in inputs.iter().enumerate() {
        let mut extra = vec![("message", s.as_str()), ("transcriptPosition", "-1")];
        if s.chars().count() <= 128 {
            extra.push(("messageType", s.as_str()));
        }
        let (status, v) = chat.call_on(&http, "send", &extra).await?;
        assert_eq!(status, 200, "#{i} {s:?}: {v}");
        let event = &v["messages"][0];
        assert_eq!(event["text"], s.as_str(), "#{i}: the message as sent");
        if s.chars().count() <= 128 {
            assert_eq!(event["messageType"], s.as_str(), "#{i}");
        }
        let nick = s.trim();
        if !nick.is_empty() && nick.chars().count() <= 128 {
            let (status, v) = chat
                .call_on(
                    &http,
                    "updateNickname",
                    &[("nickname", s), ("transcriptPosition", "-1")],
                )
                .await?;
            assert_eq!(status, 200, "#{i}: {v}");
            assert_eq!(v["messages"][0]["from"]["nickname"], nick, "#{i}");
        }
        let key = format!("userData[k{i}]");
        let (status, v) = chat.call_on(&http, "updateData", &[(&key, s)]).await?;
        assert_eq!(status, 200, "#{i}: {v}");
        let (status, v) = chat
            .call_on(&http, "startTyping", &[("message", s)])
            .await?;
        assert_eq!(status, 200, "#{i}: {v}");
    }
    let view_path = format!("/chats/{}?from=1", chat.chat_id);
    let (_, view) = agent.req(reqwest::Method::GET, &view_path, None).await?;
    for (i, s) in inputs.iter().enumerate() {
        assert_eq!(view["user_data"][format!("k{i}")], s.as_str(), "#{i}");
    }
    let before = transcript(&chat).await?;
    let server = server.restart().await?;
    assert_eq!(transcript(&chat).await?, before);
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let (status, after): (u16, Value) = agent.req(reqwest::Method::GET, &view_path, None).await?;
    assert_eq!((status, after), (200, view));
    Ok(())
}
