//! A whole chat over the GMS REST API, answered through the agent API, with exact JSON shapes.

use crate::common::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn client_party() -> Value {
    json!({"nickname": "Joan Smith", "participantId": 1, "type": "Client"})
}

async fn next_json<S>(ws: &mut S, wanted: &str) -> R<Value>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await?
            .ok_or("stream closed")??;
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t)?;
            if v["type"] == wanted {
                return Ok(v);
            }
        }
    }
}

#[tokio::test]
async fn a_full_chat_between_customer_and_agent() -> R {
    full_chat(Server::start("").await?).await
}

/// On one CPU the binary runs a one-thread runtime (blocking work on its pool): the same
/// whole chat must work there.
#[tokio::test]
async fn a_full_chat_on_one_cpu() -> R {
    full_chat(Server::start_on_one_cpu("").await?).await
}

async fn full_chat(server: Server) -> R {
    let agent = Agent::new(&server, "demo-agent-token");
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url("demo-agent-token")).await?;
    next_json(&mut ws, "status").await?;

    // Customer requests a chat (trailing slash, empty deprecated fields as Widgets send them).
    let (chat, answer) = request_chat(
        &server,
        &[
            ("firstName", "Joan"),
            ("lastName", "Smith"),
            ("subject", "Savings"),
            ("emailAddress", "joan@example.com"),
            ("userData[GCTI_LanguageCode]", "en"),
            ("userData[\"quoted\"]", "yes"),
            ("userId", ""),
            ("secureKey", ""),
            ("alias", ""),
            ("text", ""),
        ],
    )
    .await?;
    assert_eq!(chat.secure_key.len(), 32);
    assert_eq!(
        redact(answer),
        json!({
            "messages": [{"from": client_party(), "index": 1, "type": "ParticipantJoined", "utcTime": "<time>"}],
            "chatEnded": false, "statusCode": 0, "alias": "1", "secureKey": "<id>", "userId": "<id>",
            "chatId": "<id>", "nextPosition": 2, "monitored": false
        })
    );

    // Waiting in queue, the customer can already chat; messages are kept.
    let (s, v) = chat
        .call(
            "send",
            &[("message", "Anyone there?"), ("messageType", "text")],
        )
        .await?;
    assert_eq!(
        (s, v["messages"].clone(), v.get("nextPosition").is_none()),
        (200, json!([]), true)
    );

    // The agent becomes ready, gets the offer on its stream, accepts.
    agent.ready().await?;
    let offer = next_json(&mut ws, "offer").await?;
    assert_eq!(offer["chat_id"], chat.chat_id.as_str());
    let (s, view) = agent
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200, "{view}");
    assert_eq!(
        view["user_data"],
        json!({"GCTI_LanguageCode": "en", "quoted": "yes"})
    );
    assert_eq!(view["subject"], "Savings");
    assert_eq!(view["events"].as_array().map(Vec::len), Some(3));

    // The customer sees the agent join after its own message.
    let (_, v) = chat
        .call("refresh", &[("transcriptPosition", "2"), ("message", "")])
        .await?;
    let agent_party = json!({"nickname": "Demo Agent", "participantId": 2, "type": "Agent"});
    assert_eq!(
        redact(v),
        json!({
            "messages": [
                {"from": client_party(), "index": 2, "text": "Anyone there?", "messageType": "text", "type": "Message", "utcTime": "<time>"},
                {"from": agent_party, "index": 3, "type": "ParticipantJoined", "utcTime": "<time>"}
            ],
            "chatEnded": false, "statusCode": 0, "alias": "1", "secureKey": "<id>", "userId": "<id>",
            "chatId": "<id>", "nextPosition": 4, "monitored": false
        })
    );

    // Agent answers, types; the customer types, sends, pushes a URL, renames, notices, updates data.
    let (s, _) = agent
        .post(
            &format!("/chats/{}/typing", chat.chat_id),
            json!({"typing": true}),
        )
        .await?;
    assert_eq!(s, 200);
    let (s, _) = agent
        .post(
            &format!("/chats/{}/messages", chat.chat_id),
            json!({"text": "Hello Joan"}),
        )
        .await?;
    assert_eq!(s, 200);
    chat.call("startTyping", &[("message", "I ne")]).await?;
    chat.call("stopTyping", &[]).await?;
    let (_, v) = chat
        .call(
            "send",
            &[("message", "I need help"), ("transcriptPosition", "4")],
        )
        .await?;
    let kinds: Vec<&str> = v["messages"]
        .as_array()
        .ok_or("no messages")?
        .iter()
        .filter_map(|m| m["type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "TypingStarted",
            "Message",
            "TypingStarted",
            "TypingStopped",
            "Message"
        ]
    );
    assert_eq!(v["nextPosition"], 9);
    let customer_msg = next_json(&mut ws, "event").await?;
    assert_eq!(customer_msg["chat_id"], chat.chat_id.as_str());

    let (_, v) = chat
        .call(
            "pushUrl",
            &[
                ("pushUrl", "https://example.com/p"),
                ("transcriptPosition", "9"),
            ],
        )
        .await?;
    assert_eq!(
        redact(v["messages"].clone()),
        json!([{"from": client_party(), "index": 9, "text": "https://example.com/p", "type": "PushUrl", "utcTime": "<time>"}])
    );
    let (_, v) = chat
        .call(
            "updateNickname",
            &[("nickname", "Jo"), ("transcriptPosition", "10")],
        )
        .await?;
    assert_eq!(
        redact(v["messages"].clone()),
        json!([{"from": {"nickname": "Jo", "participantId": 1, "type": "Client"}, "index": 10, "text": "Jo", "type": "NicknameUpdated", "utcTime": "<time>"}])
    );
    let (_, v) = chat
        .call(
            "customNotice",
            &[
                ("message", "wake"),
                ("eventAttributes", r#"{"purpose":"cancel-idle-timer"}"#),
                ("transcriptPosition", "11"),
            ],
        )
        .await?;
    assert_eq!(v["messages"][0]["type"], "CustomNotice");
    assert_eq!(
        v["messages"][0]["eventAttributes"],
        json!({"purpose": "cancel-idle-timer"})
    );
    let (s, v) = chat
        .call("updateData", &[("userData[orderId]", "42")])
        .await?;
    assert_eq!((s, v["messages"].clone()), (200, json!([])));
    let (s, v) = chat
        .call("readReceipt", &[("transcriptPosition", "5")])
        .await?;
    assert_eq!((s, v["statusCode"].clone()), (200, json!(0)));
    let receipt = next_json(&mut ws, "read_receipt").await?;
    assert_eq!(receipt["index"], 5);
    let (_, view) = agent
        .req(
            reqwest::Method::GET,
            &format!("/chats/{}?from=11", chat.chat_id),
            None,
        )
        .await?;
    assert_eq!(view["user_data"]["orderId"], "42");
    assert_eq!(view["participants"][0]["read_up_to"], 5);

    // Agent pushes a URL and a notice; the customer disconnects.
    agent
        .post(
            &format!("/chats/{}/push-url", chat.chat_id),
            json!({"url": "https://example.com/faq"}),
        )
        .await?;
    agent
        .post(
            &format!("/chats/{}/notices", chat.chat_id),
            json!({"text": "Transferring soon"}),
        )
        .await?;
    let (s, v) = chat.call("disconnect", &[]).await?;
    assert_eq!(s, 200);
    assert_eq!(
        redact(v),
        json!({"messages": [], "chatEnded": true, "statusCode": 0, "alias": "1", "chatId": "<id>", "monitored": false})
    );
    next_json(&mut ws, "chat_ended").await?;

    // The whole transcript, as the customer can still read it, has strictly increasing indexes.
    let (_, v) = chat.call("refresh", &[("transcriptPosition", "1")]).await?;
    assert_eq!(v["chatEnded"], true);
    let msgs = v["messages"].as_array().ok_or("no messages")?;
    let idx: Vec<u64> = msgs.iter().filter_map(|m| m["index"].as_u64()).collect();
    assert_eq!(idx, (1..=14).collect::<Vec<_>>());
    assert_eq!(
        msgs.last().map(|m| m["type"].clone()),
        Some(json!("ParticipantLeft"))
    );
    // -1 returns only the newest event.
    let (_, v) = chat
        .call("refresh", &[("transcriptPosition", "-1")])
        .await?;
    assert_eq!(v["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["messages"][0]["index"], 14);
    // Any other operation on the ended chat is an error.
    let (s, v) = chat.call("send", &[("message", "late")]).await?;
    assert_eq!(
        (s, v["errors"][0]["code"].clone(), v["chatEnded"].clone()),
        (400, json!(404), json!(true))
    );
    let (_, me) = agent.req(reqwest::Method::GET, "/me", None).await?;
    assert_eq!(me["chats"], json!([]));
    Ok(())
}

#[tokio::test]
async fn agent_end_closes_the_chat_for_the_customer_and_multipart_works() -> R {
    let server = Server::start("").await?;
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let form = reqwest::multipart::Form::new()
        .text("nickname", "Multi")
        .text("userData[a]", "b");
    let v: Value = client()
        .post(format!("{}/", server.gms("customer-support")))
        .multipart(form)
        .send()
        .await?
        .json()
        .await?;
    let chat_id = v["chatId"].as_str().ok_or("no chatId")?.to_owned();
    let (s, _) = agent
        .post(&format!("/offers/{chat_id}/accept"), json!({}))
        .await?;
    assert_eq!(s, 200);
    let (s, _) = agent
        .post(&format!("/chats/{chat_id}/end"), json!({}))
        .await?;
    assert_eq!(s, 200);
    let chat = Chat {
        url: server.gms("customer-support"),
        chat_id,
        user_id: v["userId"].as_str().ok_or("no userId")?.into(),
        secure_key: v["secureKey"].as_str().ok_or("no key")?.into(),
    };
    let (s, v) = chat.call("refresh", &[("transcriptPosition", "3")]).await?;
    assert_eq!(s, 200);
    assert_eq!(v["chatEnded"], true);
    assert_eq!(v["messages"][0]["type"], "ParticipantLeft");
    assert_eq!(v["messages"][0]["from"]["type"], "Agent");
    Ok(())
}

#[tokio::test]
async fn an_offer_not_accepted_in_time_goes_to_the_next_agent() -> R {
    let cfg = r#"
[queues.default]
offer_timeout_secs = 0.5
[[agents]]
id = "a1"
token = "token-one-1"
queues = ["default"]
[[agents]]
id = "a2"
token = "token-two-2"
queues = ["default"]
"#;
    let server = Server::start(cfg).await?;
    let a1 = Agent::new(&server, "token-one-1");
    a1.ready().await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Q")]).await?;
    let (_, me) = a1.req(reqwest::Method::GET, "/me", None).await?;
    assert_eq!(me["offers"][0]["chat_id"], chat.chat_id.as_str());
    let a2 = Agent::new(&server, "token-two-2");
    a2.ready().await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, me2) = a2.req(reqwest::Method::GET, "/me", None).await?;
        if me2["offers"][0]["chat_id"] == chat.chat_id.as_str() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "offer never moved to a2"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, me1) = a1.req(reqwest::Method::GET, "/me", None).await?;
    assert_eq!(
        (me1["ready"].clone(), me1["offers"].clone()),
        (json!(false), json!([]))
    );
    let (s, _) = a1
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 404, "the lapsed offer can no longer be accepted");
    let (s, _) = a2
        .post(&format!("/offers/{}/accept", chat.chat_id), json!({}))
        .await?;
    assert_eq!(s, 200);
    Ok(())
}
