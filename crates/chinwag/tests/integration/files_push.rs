//! File events as push notifications, the real binary delivering to a real local customhttp
//! receiver: an agent's upload into a push-subscribed chat is pushed as `FileUploaded` with
//! the file's details, while its delete is not pushed (seed 001: `FileDeleted` never is);
//! the agent's message after both is, which shows the delete had its turn.

use crate::common::*;
use crate::files_kit::*;
use crate::push::{Receiver, accept};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn an_upload_is_pushed_and_a_delete_is_not() -> R {
    let (rx, url) = Receiver::start().await?;
    let cfg = format!(
        "[push]\nenabled = [\"customhttp\"]\non_join = true\nretry_base_ms = 50\nretry_max_ms = 200\n\
         [push.customhttp]\nurl = \"{url}\"\n"
    );
    let server = Server::start(&cfg).await?;
    let agent = Agent::new(&server, "demo-agent-token");
    agent.ready().await?;
    let pairs = [
        ("nickname", "Pat"),
        ("userData[GCTI_Chat_PushSubscribe]", "true"),
        ("userData[GCTI_GMS_PushDeviceId]", "dev-files"),
        ("userData[GCTI_GMS_PushDeviceType]", "customhttp"),
        ("userData[GCTI_GMS_PushIncludePayload]", "true"),
    ];
    let chat = request_chat(&server, &pairs).await?.0;
    accept(&agent, &chat).await?;

    let files = format!("{}/agent/v1/chats/{}/files", server.base, chat.chat_id);
    let auth = [("authorization", "Bearer demo-agent-token")];
    let (s, _, body) =
        post_multipart(&files, &auth, vec![P::File("terms.txt", TEXT.to_vec())]).await?;
    let up = js(&body)?;
    assert_eq!(s, 200, "{up}");
    let id = up["id"].as_str().ok_or("no id")?.to_owned();
    let r = client()
        .delete(format!("{files}/{id}"))
        .header("authorization", "Bearer demo-agent-token")
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 204);
    let (s, v) = agent
        .post(
            &format!("/chats/{}/messages", chat.chat_id),
            json!({"text": "after"}),
        )
        .await?;
    assert_eq!(s, 200, "{v}");

    let kinds = |d: &[Value]| -> Vec<Value> {
        d.iter()
            .map(|p| p["message"]["messages"][0].clone())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let pushed = loop {
        let got = kinds(&rx.delivered("dev-files"));
        if got.iter().any(|e| e["text"] == "after") {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "the message was not pushed: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let uploaded: Vec<&Value> = pushed
        .iter()
        .filter(|e| e["type"] == "FileUploaded")
        .collect();
    assert_eq!(uploaded.len(), 1, "{pushed:?}");
    assert_eq!(uploaded[0]["userData"]["file-id"], id.as_str());
    assert_eq!(uploaded[0]["userData"]["file-name"], "terms.txt");
    assert!(
        !pushed.iter().any(|e| e["type"] == "FileDeleted"),
        "FileDeleted is never pushed: {pushed:?}"
    );
    Ok(())
}
