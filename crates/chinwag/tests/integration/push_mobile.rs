//! FCM and APNs end to end: the real binary delivers to local fake providers (fakes.rs)
//! that verify the signed tokens, headers and bodies, and answer with each documented
//! error: unregistered devices are dropped, 400s are not retried, 429/5xx are retried
//! honouring Retry-After, and an expired token is replaced once.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::fakes::{self, Fake, Hit};
use crate::push::{accept, agent_says, health};
use aws_lc_rs::signature;
use axum::http::Version;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const AGENT: &str =
    "\n[[agents]]\nid = \"a1\"\nname = \"Alice\"\ntoken = \"agent-token-1\"\ncapacity = 50\n";

async fn subscribe(server: &Server, kind: &str, device: &str, extra: &[(&str, &str)]) -> R<Chat> {
    let mut pairs = vec![
        ("nickname", "Pat"),
        ("userData[GCTI_Chat_PushSubscribe]", "true"),
        ("userData[GCTI_GMS_PushDeviceId]", device),
        ("userData[GCTI_GMS_PushDeviceType]", kind),
    ];
    pairs.extend_from_slice(extra);
    Ok(request_chat(server, &pairs).await?.0)
}

/// Waits until `device` has at least `n` requests with `status`.
async fn wait_hits(fake: &Fake, device: &str, status: u16, n: usize) -> R<Vec<Hit>> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let hits = fake.hits_for(device);
        if hits.iter().filter(|h| h.status == status).count() >= n {
            return Ok(hits);
        }
        if Instant::now() > deadline {
            let seen: Vec<_> = hits.iter().map(|h| (h.status, h.body.clone())).collect();
            return Err(format!("{device}: wanted {n} × {status}, saw {seen:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn bearer(h: &Hit) -> String {
    let v = h.headers.get("authorization").unwrap().to_str().unwrap();
    v.split_once(' ').unwrap().1.to_owned()
}

pub(crate) fn service_account(
    dir: &std::path::Path,
    name: &str,
    project: &str,
    base: &str,
) -> R<(String, Vec<u8>, String)> {
    let (pem, public) = fakes::rsa_key();
    let email = format!("{name}@{project}.iam.gserviceaccount.com");
    let path = dir.join(format!("{name}.json"));
    let json = json!({
        "type": "service_account",
        "project_id": project,
        "private_key_id": format!("kid-{name}"),
        "private_key": pem,
        "client_email": email,
        "token_uri": format!("{base}/token"),
    });
    std::fs::write(&path, json.to_string())?;
    Ok((path.display().to_string(), public, email))
}

struct FcmSetup {
    fake: Fake,
    base: String,
    server: Server,
    agent: Agent,
    main_email: String,
    debug_email: String,
    _dir: tempfile::TempDir,
}

async fn fcm_setup() -> R<FcmSetup> {
    let dir = tempfile::tempdir()?;
    // The key files name the fake's token endpoint, so the fake starts first.
    let (fake, base) = Fake::fcm().await?;
    let (main_pem_path, main_pub, main_email) =
        service_account(dir.path(), "main", "proj-main", &base)?;
    let (debug_path, debug_pub, debug_email) =
        service_account(dir.path(), "debug", "proj-debug", &base)?;
    fake.add_account(&main_email, main_pub);
    fake.add_account(&debug_email, debug_pub);
    let cfg = format!(
        "[push]\nenabled = [\"fcm\"]\non_join = true\nretry_base_ms = 50\nretry_max_ms = 200\n\
         [push.fcm]\nservice_account_file = \"{main_pem_path}\"\ndebug_service_account_file = \"{debug_path}\"\napi_url = \"{base}\"\n\
         [push.templates.Message]\ntitle = \"New from %s\"\n\
         [push.provider.acme.templates.Message]\ntitle = \"ACME: %s\"\n\
         [push.provider.acme.templates.ParticipantJoined]\nbody = \"%s is here\"\n{AGENT}"
    );
    let server = Server::start(&cfg).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    Ok(FcmSetup {
        fake,
        base,
        server,
        agent,
        main_email,
        debug_email,
        _dir: dir,
    })
}

pub(crate) fn fcm_data(h: &Hit) -> &serde_json::Map<String, Value> {
    h.body["message"]["data"].as_object().unwrap()
}

pub(crate) fn fcm_note(h: &Hit) -> (String, String) {
    let n = &h.body["message"]["notification"];
    (
        n["title"].as_str().unwrap().to_owned(),
        n["body"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn fcm_sends_v1_messages_with_a_cached_oauth_token_and_the_templates() -> R {
    let s = fcm_setup().await?;
    let a = subscribe(
        &s.server,
        "fcm",
        "tok-a",
        &[("userData[GCTI_GMS_PushIncludePayload]", "true")],
    )
    .await?;
    let d = subscribe(
        &s.server,
        "fcm",
        "tok-d",
        &[("userData[GCTI_GMS_PushDebug]", "true")],
    )
    .await?;
    let p = subscribe(
        &s.server,
        "fcm",
        "tok-p",
        &[("userData[GCTI_GMS_PushProvider]", "acme")],
    )
    .await?;
    for chat in [&a, &d, &p] {
        accept(&s.agent, chat).await?;
        agent_says(&s.agent, chat, "hello").await?;
    }
    let ha = wait_hits(&s.fake, "tok-a", 200, 2).await?;
    let hd = wait_hits(&s.fake, "tok-d", 200, 2).await?;
    let hp = wait_hits(&s.fake, "tok-p", 200, 2).await?;

    // Default templates for the join, the [push.templates] override for the message.
    assert_eq!(
        fcm_note(&ha[0]),
        (
            "Chat participants changed".into(),
            "Alice joined chat".into()
        )
    );
    assert_eq!(fcm_note(&ha[1]), ("New from Alice".into(), "hello".into()));
    assert_eq!(fcm_data(&ha[0])["event"], "ParticipantJoined");
    assert_eq!(fcm_data(&ha[1])["event"], "Message");
    assert_eq!(fcm_data(&ha[1])["index"], "3");
    // FCM data values must all be strings; the payload rides as a JSON string.
    assert!(
        ha.iter()
            .all(|h| fcm_data(h).values().all(Value::is_string))
    );
    let payload: Value = serde_json::from_str(fcm_data(&ha[1])["message"].as_str().unwrap())?;
    assert_eq!(payload["messages"][0]["text"], "hello");
    assert_eq!(payload["messages"][0]["from"]["nickname"], "Alice");
    assert_eq!(payload["statusCode"], 0);
    assert_eq!(ha[1].path, "/v1/projects/proj-main/messages:send");
    // Without payload: no message in data.
    assert!(!fcm_data(&hp[1]).contains_key("message"));
    // The provider's templates win, and fall back field by field.
    assert_eq!(
        fcm_note(&hp[0]),
        ("Chat participants changed".into(), "Alice is here".into())
    );
    assert_eq!(fcm_note(&hp[1]), ("ACME: Alice".into(), "hello".into()));
    // Debug sessions use the debug account's project and token.
    assert!(
        hd.iter()
            .all(|h| h.path == "/v1/projects/proj-debug/messages:send")
    );
    assert_ne!(bearer(&hd[0]), bearer(&ha[0]));

    // One grant per account, verified against its public key; tokens cached.
    assert!(s.fake.bad_grants().is_empty(), "{:?}", s.fake.bad_grants());
    let grants = s.fake.grants();
    assert_eq!(
        grants.len(),
        2,
        "one token per account for six pushes: {grants:?}"
    );
    let mut issuers: Vec<&str> = grants
        .iter()
        .map(|(_, c)| c["iss"].as_str().unwrap())
        .collect();
    issuers.sort_unstable();
    let mut want = vec![s.debug_email.as_str(), s.main_email.as_str()];
    want.sort_unstable();
    assert_eq!(issuers, want);
    for (h, c) in &grants {
        assert_eq!(h["alg"], "RS256");
        assert!(h["kid"].as_str().unwrap().starts_with("kid-"));
        assert_eq!(
            c["scope"],
            "https://www.googleapis.com/auth/firebase.messaging"
        );
        assert_eq!(c["aud"], format!("{}/token", s.base));
        assert_eq!(
            c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(),
            3600
        );
    }
    let all = s.fake.hits();
    assert_eq!(all.len(), 6);
    assert!(all.iter().all(|h| s.fake.tokens().contains(&bearer(h))));
    Ok(())
}

#[tokio::test]
async fn fcm_error_answers_drop_refuse_back_off_or_refresh() -> R {
    let s = fcm_setup().await?;
    let unreg = json!({"error": {"code": 404, "status": "NOT_FOUND", "details": [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}});
    let invalid = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT", "details": [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT"}]}});
    let quota = json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "QUOTA_EXCEEDED"}]}});
    s.fake.script("tok-unreg", vec![(404, unreg, None)]);
    s.fake.script("tok-bad", vec![(400, invalid, None)]);
    s.fake.script("tok-busy", vec![(429, quota, Some(1))]);
    s.fake.script(
        "tok-down",
        vec![(503, json!({}), None), (500, json!({}), None)],
    );
    let mut chats = Vec::new();
    for device in ["tok-unreg", "tok-bad", "tok-busy", "tok-down", "tok-ok"] {
        let chat = subscribe(&s.server, "fcm", device, &[]).await?;
        accept(&s.agent, &chat).await?;
        agent_says(&s.agent, &chat, "one").await?;
        chats.push(chat);
    }
    // The unregistered device's chat goes on; nothing more is pushed to it.
    agent_says(&s.agent, &chats[0], "two").await?;
    agent_says(&s.agent, &chats[0], "three").await?;
    agent_says(&s.agent, &chats[4], "last").await?;

    // 400: refused, not retried; the next event still goes out.
    let bad = wait_hits(&s.fake, "tok-bad", 200, 1).await?;
    let statuses: Vec<(u16, &str)> = bad
        .iter()
        .map(|h| (h.status, fcm_data(h)["index"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, vec![(400, "2"), (200, "3")]);
    // 429 with Retry-After: 1: the same push again, not sooner than a second later.
    let busy = wait_hits(&s.fake, "tok-busy", 200, 2).await?;
    let statuses: Vec<(u16, &str)> = busy
        .iter()
        .map(|h| (h.status, fcm_data(h)["index"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, vec![(429, "2"), (200, "2"), (200, "3")]);
    assert!(busy[1].at.duration_since(busy[0].at) >= Duration::from_secs(1));
    // 503, 500: retried with backoff, order kept.
    let down = wait_hits(&s.fake, "tok-down", 200, 2).await?;
    let statuses: Vec<(u16, &str)> = down
        .iter()
        .map(|h| (h.status, fcm_data(h)["index"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        vec![(503, "2"), (500, "2"), (200, "2"), (200, "3")]
    );
    wait_hits(&s.fake, "tok-ok", 200, 3).await?;
    // UNREGISTERED: one request, then the subscription is gone (the later messages of
    // that chat were committed after it and never became pushes).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let gone = s.fake.hits_for("tok-unreg");
    assert_eq!(gone.len(), 1, "{gone:?}");
    let (_, h) = health(&s.server).await?;
    assert!(h["push"]["dropped"].as_u64().unwrap() >= 2, "{h}");

    // A revoked access token: 401, a new token from the endpoint, the push goes through.
    let tokens_before = s.fake.tokens().len();
    s.fake.revoke_current_token();
    agent_says(&s.agent, &chats[4], "after revoke").await?;
    let ok = wait_hits(&s.fake, "tok-ok", 200, 4).await?;
    let tail: Vec<u16> = ok.iter().rev().take(2).map(|h| h.status).collect();
    assert_eq!(tail, vec![200, 401]);
    assert_eq!(s.fake.tokens().len(), tokens_before + 1);
    assert_ne!(bearer(&ok[ok.len() - 1]), bearer(&ok[ok.len() - 2]));
    Ok(())
}

#[tokio::test]
async fn apns_pushes_go_over_http2_with_an_es256_provider_token() -> R {
    let dir = tempfile::tempdir()?;
    let (pem, public) = fakes::ec_key();
    let key_path = dir.path().join("AuthKey_KEY123.p8");
    std::fs::write(&key_path, pem)?;
    let (fake, base) = Fake::apns(public.clone()).await?;
    let cfg = format!(
        "[push]\nenabled = [\"ios\"]\non_join = true\nretry_base_ms = 50\nretry_max_ms = 200\n\
         [push.ios]\nkey_file = \"{}\"\nkey_id = \"KEY123\"\nteam_id = \"TEAM9\"\ntopic = \"com.example.chat\"\nurl = \"{base}\"\nsandbox_url = \"{base}/sandbox\"\n{AGENT}",
        key_path.display()
    );
    let server = Server::start(&cfg).await?;
    let agent = Agent::new(&server, "agent-token-1");
    agent.ready().await?;
    fake.script(
        "ios-unreg",
        vec![(410, json!({"reason": "Unregistered", "timestamp": 1}), None)],
    );
    fake.script(
        "ios-bad",
        vec![(400, json!({"reason": "BadDeviceToken"}), None)],
    );
    fake.script(
        "ios-busy",
        vec![(429, json!({"reason": "TooManyRequests"}), Some(1))],
    );
    fake.script(
        "ios-topic",
        vec![(400, json!({"reason": "BadCollapseId"}), None)],
    );
    let mut chats = Vec::new();
    for (device, extra) in [
        (
            "ios-a",
            vec![("userData[GCTI_GMS_PushIncludePayload]", "true")],
        ),
        ("ios-d", vec![("userData[GCTI_GMS_PushDebug]", "true")]),
        ("ios-unreg", vec![]),
        ("ios-bad", vec![]),
        ("ios-busy", vec![]),
        ("ios-topic", vec![]),
    ] {
        let chat = subscribe(&server, "ios", device, &extra).await?;
        accept(&agent, &chat).await?;
        agent_says(&agent, &chat, "hi there").await?;
        chats.push(chat);
    }
    let a = wait_hits(&fake, "ios-a", 200, 2).await?;
    let d = wait_hits(&fake, "ios-d", 200, 2).await?;
    for h in a.iter().chain(&d) {
        assert_eq!(h.version, Version::HTTP_2);
        assert_eq!(h.headers["apns-topic"], "com.example.chat");
        assert_eq!(h.headers["apns-push-type"], "alert");
        let (header, claims) =
            fakes::verify_jwt(&bearer(h), &signature::ECDSA_P256_SHA256_FIXED, &public).unwrap();
        assert_eq!(
            (header["alg"].clone(), header["kid"].clone()),
            (json!("ES256"), json!("KEY123"))
        );
        assert_eq!(claims["iss"], "TEAM9");
        assert!(claims["iat"].as_u64().unwrap() > 1_700_000_000);
    }
    assert!(a.iter().all(|h| h.path == "/3/device/ios-a"));
    assert!(d.iter().all(|h| h.path == "/sandbox/3/device/ios-d"));
    assert_eq!(
        a[0].body["aps"]["alert"],
        json!({"title": "Chat participants changed", "body": "Alice joined chat"})
    );
    assert_eq!(
        a[1].body["aps"]["alert"],
        json!({"title": "Alice sent new message", "body": "hi there"})
    );
    assert_eq!(a[1].body["event"], "Message");
    assert_eq!(a[1].body["message"]["messages"][0]["text"], "hi there");
    assert!(d[1].body.get("message").is_none());
    // 429: retried after Retry-After; other 400s: refused once, the next event goes out.
    let busy = wait_hits(&fake, "ios-busy", 200, 2).await?;
    assert_eq!(
        busy.iter().map(|h| h.status).collect::<Vec<_>>(),
        vec![429, 200, 200]
    );
    assert!(busy[1].at.duration_since(busy[0].at) >= Duration::from_secs(1));
    let topic = wait_hits(&fake, "ios-topic", 200, 1).await?;
    assert_eq!(
        topic.iter().map(|h| h.status).collect::<Vec<_>>(),
        vec![400, 200]
    );
    // 410 Unregistered and 400 BadDeviceToken: one request each, then nothing more.
    agent_says(&agent, &chats[2], "more").await?;
    agent_says(&agent, &chats[3], "more").await?;
    agent_says(&agent, &chats[0], "last").await?;
    wait_hits(&fake, "ios-a", 200, 3).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.hits_for("ios-unreg").len(), 1);
    assert_eq!(fake.hits_for("ios-bad").len(), 1);
    // One provider token served every push so far.
    let tokens: std::collections::HashSet<String> = fake.hits().iter().map(bearer).collect();
    assert_eq!(tokens.len(), 1, "{tokens:?}");

    // An expired provider token: a new one is signed and the push goes through.
    fake.script(
        "ios-a",
        vec![(403, json!({"reason": "ExpiredProviderToken"}), None)],
    );
    agent_says(&agent, &chats[0], "after expiry").await?;
    let a = wait_hits(&fake, "ios-a", 200, 4).await?;
    let n = a.len();
    assert_eq!((a[n - 2].status, a[n - 1].status), (403, 200));
    assert_ne!(bearer(&a[n - 2]), bearer(&a[n - 1]));
    assert!(
        fakes::verify_jwt(
            &bearer(&a[n - 1]),
            &signature::ECDSA_P256_SHA256_FIXED,
            &public
        )
        .is_some()
    );
    Ok(())
}
