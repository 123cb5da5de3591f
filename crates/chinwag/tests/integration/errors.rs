//! Every documented error, each triggered by a real bad request to the real server.

use crate::common::*;
use serde_json::{Value, json};

fn code(v: &Value) -> Value {
    v["errors"][0]["code"].clone()
}

/// Asserts the GMS error envelope: statusCode 2 (1 for the temporary 503), one error with
/// advice, a referenceId.
fn gms_error(status: u16, v: &Value, expected_status: u16, expected_code: u16) {
    assert_eq!(status, expected_status, "{v}");
    let temporary = expected_status == 503 && expected_code == 503;
    assert_eq!(v["statusCode"], if temporary { 1 } else { 2 }, "{v}");
    assert_eq!(code(v), json!(expected_code), "{v}");
    assert!(
        v["errors"][0]["advice"]
            .as_str()
            .is_some_and(|a| !a.is_empty()),
        "{v}"
    );
    assert!(
        v["referenceId"].as_str().is_some_and(|a| !a.is_empty()),
        "{v}"
    );
}

#[tokio::test]
async fn request_chat_validation_errors() -> R {
    let server =
        Server::start("[services.customer-support]\nmax_sessions = 1\nmax_message_length = 20\n")
            .await?;
    let url = format!("{}/", server.gms("customer-support"));
    let cases: [(&[(&str, &str)], u16); 5] = [
        (&[("lastName", "Smith")], 102),
        (&[("firstName", "Joan")], 103),
        (&[("subject", "x")], 161),
        (&[("nickname", "n"), ("emailAddress", "not-an-email")], 364),
        (
            &[
                ("nickname", "n"),
                ("text", "this text is longer than twenty"),
            ],
            204,
        ),
    ];
    for (pairs, expected) in cases {
        let (s, v) = post_form(&url, pairs).await?;
        gms_error(s, &v, 400, expected);
    }
    request_chat(&server, &[("nickname", "first")]).await?;
    let (s, v) = post_form(&url, &[("nickname", "second")]).await?;
    gms_error(s, &v, 400, 240);
    let (s, v) = post_form(
        &format!("{}/genesys/2/chat/nope/", server.base),
        &[("nickname", "n")],
    )
    .await?;
    gms_error(s, &v, 404, 404);
    Ok(())
}

#[tokio::test]
async fn per_chat_errors_leak_nothing() -> R {
    let server = Server::start("[services.customer-support]\nmax_message_length = 20\n").await?;
    let (chat, _) = request_chat(&server, &[("nickname", "n")]).await?;
    let wrong_key = Chat {
        secure_key: "0".repeat(32),
        ..chat.clone()
    };
    let wrong_user = Chat {
        user_id: "0000000000000000".into(),
        ..chat.clone()
    };
    let unknown = Chat {
        chat_id: "AAAAAAAAAAAAAAAA".into(),
        ..chat.clone()
    };
    let mut bodies = Vec::new();
    for c in [&wrong_key, &wrong_user, &unknown] {
        let (s, v) = c.call("refresh", &[("transcriptPosition", "1")]).await?;
        gms_error(s, &v, 400, 404);
        assert!(
            v.get("messages").is_none() && v.get("secureKey").is_none(),
            "nothing leaks: {v}"
        );
        bodies.push(v["errors"].clone());
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "wrong key, wrong user and unknown chat look the same"
    );
    let (s, v) = chat
        .call("send", &[("message", "x".repeat(21).as_str())])
        .await?;
    gms_error(s, &v, 400, 204);
    let (s, v) = chat
        .call("refresh", &[("message", "y".repeat(21).as_str())])
        .await?;
    gms_error(s, &v, 400, 204);
    let (s, v) = chat.call("send", &[]).await?;
    gms_error(s, &v, 400, 400);
    let (s, v) = chat.call("updateNickname", &[]).await?;
    gms_error(s, &v, 400, 161);
    let (s, v) = chat
        .call("refresh", &[("transcriptPosition", "abc")])
        .await?;
    gms_error(s, &v, 400, 400);
    let (s, v) = chat
        .call("readReceipt", &[("transcriptPosition", "99")])
        .await?;
    gms_error(s, &v, 400, 400);
    let (s, v) = chat.call("frobnicate", &[]).await?;
    gms_error(s, &v, 404, 404);
    let (s, v) = post_form(
        &format!("{}/{}/send", chat.url, chat.chat_id),
        &[("message", "m"), ("userId", &chat.user_id)],
    )
    .await?;
    gms_error(s, &v, 400, 400);
    assert!(
        v["errors"][0]["advice"]
            .as_str()
            .is_some_and(|a| a.contains("secureKey"))
    );
    Ok(())
}

#[tokio::test]
async fn malformed_bodies_get_gms_errors() -> R {
    let server = Server::start("").await?;
    let url = format!("{}/", server.gms("customer-support"));
    let r = client()
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"nickname\":\"n\"}")
        .send()
        .await?;
    let s = r.status().as_u16();
    gms_error(s, &r.json().await?, 400, 400);
    let r = client()
        .post(&url)
        .header("content-type", "multipart/form-data; boundary=XX")
        .body("--XX\r\ngarbage")
        .send()
        .await?;
    let s = r.status().as_u16();
    gms_error(s, &r.json().await?, 400, 400);
    let big = "a".repeat(70 * 1024);
    let (s, v) = post_form(&url, &[("nickname", "n"), ("text", big.as_str())]).await?;
    gms_error(s, &v, 400, 204);
    let r = client().get(&url).send().await?;
    let s = r.status().as_u16();
    gms_error(s, &r.json().await?, 405, 400);
    // Invalid UTF-8 and stray bytes still parse as a form (lossy), never a 500.
    let r = client()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"nickname=%FF%FE&&=&userData[=x".to_vec())
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 200);
    Ok(())
}

#[tokio::test]
async fn apikey_basic_auth_and_cors() -> R {
    let cfg = r#"
[services.customer-support]
apikey = "k3y"
cors_origins = ["https://shop.example"]
[services.basic]
basic_auth = { username = "w", password = "p" }
cors_origins = ["*"]
"#;
    let server = Server::start(cfg).await?;
    let url = format!("{}/", server.gms("customer-support"));
    let (s, v) = post_form(&url, &[("nickname", "n")]).await?;
    gms_error(s, &v, 401, 401);
    let r = client()
        .post(&url)
        .header("apikey", "wrong")
        .form(&[("nickname", "n")])
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 401);
    let r = client()
        .post(&url)
        .header("apikey", "k3y")
        .header("origin", "https://shop.example")
        .form(&[("nickname", "n")])
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    // Preflight needs no credentials; a foreign origin gets no CORS headers.
    let pre = client()
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "apikey")
        .send()
        .await?;
    assert_eq!(pre.status().as_u16(), 204);
    assert!(
        pre.headers()["access-control-allow-headers"]
            .to_str()?
            .contains("apikey")
    );
    let foreign = client()
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://evil.example")
        .send()
        .await?;
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let burl = format!("{}/", server.gms("basic"));
    let r = client()
        .post(&burl)
        .basic_auth("w", Some("bad"))
        .form(&[("nickname", "n")])
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 401);
    let r = client()
        .post(&burl)
        .basic_auth("w", Some("p"))
        .header("origin", "https://any.example")
        .form(&[("nickname", "n")])
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 200);
    // "*" echoes the origin with credentials: browsers refuse a bare * for credentialed
    // requests.
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://any.example"
    );
    assert_eq!(r.headers()["access-control-allow-credentials"], "true");
    assert_eq!(r.headers()["vary"], "Origin");
    Ok(())
}

#[tokio::test]
async fn unavailable_and_store_failure() -> R {
    let server = Server::start("[services.customer-support]\nmaintenance = true\n[services.open.limits]\nnew_chats_per_ip = { per_second = 0, burst = 0 }\n[store]\nmax_size_mb = 1\n").await?;
    let (s, v) = post_form(
        &format!("{}/", server.gms("customer-support")),
        &[("nickname", "n")],
    )
    .await?;
    gms_error(s, &v, 503, 503);
    // Fill the 1 MiB store quota: once full, writes fail with 500 and nothing half-written.
    let url = format!("{}/", server.gms("open"));
    let text = "z".repeat(3000);
    let mut got_500 = false;
    for _ in 0..2000 {
        let (s, v) = post_form(&url, &[("nickname", "n"), ("text", text.as_str())]).await?;
        if s == 500 {
            gms_error(s, &v, 500, 500);
            got_500 = true;
            break;
        }
        assert_eq!(s, 200, "{v}");
    }
    assert!(got_500, "a full store must answer 500");
    let (_, health) = {
        let r = client()
            .get(format!("{}/health", server.base))
            .send()
            .await?;
        (r.status(), r.json::<Value>().await?)
    };
    assert_eq!(health["status"], "ok", "the server is still up");
    Ok(())
}

#[tokio::test]
async fn agent_api_errors() -> R {
    let server = Server::start("").await?;
    let bad = Agent::new(&server, "wrong-token");
    let (s, v) = bad.req(reqwest::Method::POST, "/login", None).await?;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (401, json!("unauthorized"))
    );
    let agent = Agent::new(&server, "demo-agent-token");
    let (s, v) = agent
        .req(reqwest::Method::PUT, "/state", Some(json!({"ready": true})))
        .await?;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (409, json!("not_logged_in"))
    );
    agent.ready().await?;
    let r = client()
        .put(format!("{}/state", agent.base))
        .bearer_auth("demo-agent-token")
        .header("content-type", "application/json")
        .body("{ready: yes")
        .send()
        .await?;
    let s = r.status().as_u16();
    let v: Value = r.json().await?;
    assert_eq!((s, v["error"]["code"].clone()), (400, json!("bad_request")));
    let (s, v) = agent.post("/offers/NOPE/accept", json!({})).await?;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (404, json!("no_such_offer"))
    );
    let (s, v) = agent
        .post("/chats/NOPE/messages", json!({"text": "x"}))
        .await?;
    assert_eq!((s, v["error"]["code"].clone()), (404, json!("not_in_chat")));
    let (s, v) = agent
        .post("/chats/NOPE/messages", json!({"txt": "x"}))
        .await?;
    assert_eq!((s, v["error"]["code"].clone()), (400, json!("bad_request")));
    let (chat, _) = request_chat(&server, &[("nickname", "n")]).await?;
    let (s, _) = agent
        .req(
            reqwest::Method::GET,
            &format!("/chats/{}", chat.chat_id),
            None,
        )
        .await?;
    assert_eq!(s, 200, "an offered chat can be previewed");
    let (s, v) = agent
        .post(
            &format!("/chats/{}/messages", chat.chat_id),
            json!({"text": "x"}),
        )
        .await?;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (404, json!("not_in_chat")),
        "not before accepting"
    );
    let (s, v) = agent.req(reqwest::Method::GET, "/nope", None).await?;
    assert_eq!((s, v["error"]["code"].clone()), (404, json!("not_found")));
    Ok(())
}
