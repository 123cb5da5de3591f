//! Restart after every kind of accepted input (defect 2: an accepted input the store could
//! not read back kept the server from starting). Every REST operation and the agent API are
//! driven with edge inputs that are ACCEPTED — maximum lengths, astral characters, RTL and
//! BOM marks, control characters, quotes and backslashes, `userData` at its key and byte
//! limits, `eventAttributes` at the maximum depth and size, a long `messageType`, nickname
//! changes — then the server is killed with SIGKILL and started again: it starts, and every
//! chat reads back identical (the whole refresh answer and the agent's view). Inputs over
//! the bounds (attributes nested 65 or 127 deep, userData over its limits) are refused with
//! HTTP 400 code 413 and never stored.

use crate::adv_net::gms_code;
use crate::common::*;
use serde_json::{Value, json};

pub(crate) const CONFIG: &str = "
[services.customer-support.limits]
max_user_data_keys = 8
max_user_data_bytes = 2048
max_attributes_depth = 64
max_attributes_bytes = 8192
requests_per_ip = { per_second = 0, burst = 0 }
new_chats_per_ip = { per_second = 0, burst = 0 }
";

/// `n` characters cycling through awkward ones (none is whitespace, so trimming keeps it).
pub(crate) fn awkward(n: usize, controls: bool) -> String {
    let plain = [
        '🦀', '\u{200F}', '\u{202E}', 'Ω', '"', '\'', '\\', '<', '&', '𝄞', '\u{FEFF}', 'é',
        '\u{2028}', '/', '%', '+', '=',
    ];
    let ctl = ['\u{0}', '\u{1}', '\t', '\r', '\n', '\u{7f}', '\u{1b}'];
    let set: Vec<char> = if controls {
        plain.iter().chain(ctl.iter()).copied().collect()
    } else {
        plain.to_vec()
    };
    set.iter().cycle().take(n).collect()
}

/// JSON nesting depth as the service counts it (a scalar is 0, `[1]` is 1).
pub(crate) fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// An object nested `depth` levels (arrays and objects in turn, at least 3) around awkward
/// leaves and extreme numbers.
pub(crate) fn attributes(depth: usize) -> String {
    let mut v = json!({"leaf": awkward(20, true), "n": [u64::MAX, i64::MIN, 1.5e300, 5e-324, -0.0, null, true]});
    for level in 2..depth - 1 {
        v = if level % 2 == 0 {
            json!([v])
        } else {
            json!({ format!("k{level}\"\\🦀"): v })
        };
    }
    json!({ "outer": v }).to_string()
}

/// `userData` at its limits: 8 keys whose keys and values add up to exactly 2048 bytes.
pub(crate) fn full_user_data() -> Vec<(String, String)> {
    let keys = [
        "k\\1",
        "ключ",
        "🔑",
        "a b",
        "x.y",
        "GCTI_LanguageCode",
        "a'b",
        "q\"q",
    ];
    let mut data: Vec<(String, String)> = keys
        .iter()
        .map(|k| ((*k).to_owned(), awkward(20, true)))
        .collect();
    let used: usize = data.iter().map(|(k, v)| k.len() + v.len()).sum();
    data[0].1.push_str(&"v".repeat(2048 - used));
    data
}

/// Every event of `chat` from 1 as the customer reads it, and the answer itself.
pub(crate) async fn transcript(chat: &Chat) -> R<Value> {
    let (s, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(s, 200, "{v}");
    Ok(v)
}

#[tokio::test]
async fn every_accepted_input_reads_back_identical_after_kill_9() -> R {
    let server = Server::start(CONFIG).await?;
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let data = full_user_data();
    let mut form: Vec<(String, String)> = vec![
        ("nickname".into(), awkward(128, false)),
        ("subject".into(), awkward(4096, true)),
        ("emailAddress".into(), "o'brien+🦀@例え.テスト".into()),
        ("text".into(), awkward(4096, true)),
    ];
    form.extend(
        data.iter()
            .map(|(k, v)| (format!("userData[{k}]"), v.clone())),
    );
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (chat, first) = request_chat(&server, &pairs).await?;
    assert_eq!(
        first["messages"][1]["text"],
        awkward(4096, true),
        "echoed as sent"
    );
    let (s, v) = agent
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{v}");
    let got: Vec<(String, String)> = v["user_data"]
        .as_object()
        .ok_or("no user_data")?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let mut want = data.clone();
    want.sort();
    assert_eq!(got, want, "userData at its limits, exactly as sent");

    let deep = attributes(64);
    for d in [64, 65, 127] {
        assert_eq!(depth(&serde_json::from_str(&attributes(d))?), d);
    }
    let big = json!({"big": "x".repeat(8192 - 11)}).to_string();
    let ops: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "send",
            vec![
                ("message", awkward(4096, true)),
                ("messageType", awkward(128, true)),
            ],
        ),
        (
            "send",
            vec![
                ("message", "attrs".into()),
                ("eventAttributes", deep.clone()),
            ],
        ),
        (
            "send",
            vec![("message", "big".into()), ("eventAttributes", big)],
        ),
        ("startTyping", vec![("message", awkward(4096, true))]),
        ("stopTyping", vec![("message", awkward(10, true))]),
        ("refresh", vec![("message", awkward(4096, true))]),
        (
            "pushUrl",
            vec![(
                "pushUrl",
                format!("javascript:alert(\"{}\")", awkward(50, true)),
            )],
        ),
        (
            "updateNickname",
            vec![("nickname", awkward(128, false).chars().rev().collect())],
        ),
        ("updateNickname", vec![("nickname", "Jo \u{1F980}".into())]),
        (
            "customNotice",
            vec![("message", awkward(4096, true)), ("eventAttributes", deep)],
        ),
        ("customNotice", vec![("eventAttributes", "{}".into())]),
        (
            "updateData",
            vec![("userData[k\\1]", data[0].1.chars().rev().collect())],
        ),
        ("readReceipt", vec![("transcriptPosition", "2".into())]),
    ];
    for (op, extra) in &ops {
        let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, v) = chat.call(op, &extra).await?;
        assert_eq!(s, 200, "{op} was refused: {v}");
    }
    for (path, body) in [
        (
            "messages",
            json!({"text": awkward(4096, true), "message_type": awkward(128, true)}),
        ),
        (
            "notices",
            json!({"text": awkward(100, true), "custom": true, "attributes": serde_json::from_str::<Value>(&attributes(64))?}),
        ),
        ("notices", json!({"text": "plain notice"})),
        (
            "typing",
            json!({"typing": true, "text": awkward(100, true)}),
        ),
        ("push-url", json!({"url": awkward(300, true)})),
    ] {
        let (s, v) = agent
            .post(&format!("/chats/{}/{path}", chat.chat_id), body)
            .await?;
        assert_eq!(s, 200, "agent {path}: {v}");
    }
    // Over the bounds: refused with 413 and never stored.
    let before = transcript(&chat).await?;
    for (extra, what) in [
        (
            vec![
                ("message", "x".to_owned()),
                ("eventAttributes", attributes(65)),
            ],
            "65 deep",
        ),
        (
            vec![
                ("message", "x".to_owned()),
                ("eventAttributes", attributes(127)),
            ],
            "127 deep",
        ),
        (
            vec![
                ("message", "x".to_owned()),
                (
                    "eventAttributes",
                    json!({"big": "x".repeat(8192)}).to_string(),
                ),
            ],
            "too big",
        ),
    ] {
        let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, v) = chat.call("send", &extra).await?;
        assert_eq!((s, gms_code(&v)?), (400, 413), "{what}: {v}");
    }
    for extra in [
        [("userData[ninth]", "v")],
        [("userData[🔑]", &*"v".repeat(100))],
    ] {
        let (s, v) = chat.call("updateData", &extra).await?;
        assert_eq!((s, gms_code(&v)?), (400, 413), "{v}");
    }
    assert_eq!(
        transcript(&chat).await?,
        before,
        "nothing refused was stored"
    );

    // A chat by first and last name, ended by its customer.
    let (ended, _) = request_chat(
        &server,
        &[
            ("firstName", &awkward(60, false)),
            ("lastName", &awkward(60, false)),
        ],
    )
    .await?;
    ended
        .call("send", &[("message", &awkward(300, true))])
        .await?;
    ended.call("disconnect", &[]).await?;

    let view_path = format!("/chats/{}?from=1", chat.chat_id);
    let (_, agent_view) = agent.req(reqwest::Method::GET, &view_path, None).await?;
    let (chat_before, ended_before) = (transcript(&chat).await?, transcript(&ended).await?);
    let n = chat_before["messages"].as_array().map_or(0, Vec::len);
    assert_eq!(
        chat_before["nextPosition"],
        n + 1,
        "the whole transcript in one answer"
    );

    let server = server.restart().await?;
    assert_eq!(transcript(&chat).await?, chat_before);
    assert_eq!(transcript(&ended).await?, ended_before);
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let (s, view) = agent.req(reqwest::Method::GET, &view_path, None).await?;
    assert_eq!((s, view), (200, agent_view));
    // And the chat goes on.
    let (s, v) = chat
        .call(
            "send",
            &[("message", "after"), ("transcriptPosition", "-1")],
        )
        .await?;
    assert_eq!((s, &v["messages"][0]["index"]), (200, &json!(n + 1)), "{v}");
    Ok(())
}
