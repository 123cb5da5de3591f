//! Console sign-in over the real server: the session cookie and its attributes, the same
//! answer for a wrong password and an unknown id, sign-out, the lock-out after repeated
//! failures, the demo account's sign-in, and https behind a trusted proxy.

use crate::common::*;
use crate::console_kit::*;
use reqwest::Method;

const CSRF: (&str, &str) = ("x-chinwag-csrf", "1");

#[tokio::test]
async fn sign_in_use_the_cookie_and_sign_out() -> R {
    let cfg = config_with("", &[("alice", PASSWORD)])?;
    let server = Server::start(&cfg).await?;
    let wrong = sign_in(&server, "alice", "not the password").await?;
    let unknown = sign_in(&server, "nobody", PASSWORD).await?;
    for a in [&wrong, &unknown] {
        assert_eq!((a.status, a.code()), (401, "bad_credentials"), "{}", a.body);
        assert!(a.cookie().is_none());
    }
    assert_eq!(wrong.body, unknown.body, "one answer for both");

    let ok = sign_in(&server, "alice", PASSWORD).await?;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["id"], "alice", "the agent's status");
    let set = ok.set_cookie();
    assert!(set.starts_with("chinwag_session="), "{set}");
    for attr in ["; HttpOnly", "; SameSite=Strict", "; Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "plain http: {set}");
    let cookie = ok.cookie().ok_or("cookie")?;
    let value = cookie.split_once('=').ok_or("pair")?.1;
    assert_eq!(value.len(), 64, "256 random bits in hex");
    let again = session(&server, "alice", PASSWORD).await?;
    assert_ne!(again, cookie, "a new id at every sign-in");

    let me = send(&server, Method::GET, "/me", &[("cookie", &cookie)], None).await?;
    assert_eq!((me.status, &me.body["id"]), (200, &"alice".into()));
    let login = send(
        &server,
        Method::POST,
        "/login",
        &[("cookie", &cookie), CSRF],
        None,
    )
    .await?;
    assert_eq!(login.status, 200, "{}", login.body);
    // alice has no token: no bearer gets her in.
    let bearer = send(
        &server,
        Method::GET,
        "/me",
        &[("authorization", "Bearer ")],
        None,
    )
    .await?;
    assert_eq!(bearer.status, 401);

    let out = send(
        &server,
        Method::DELETE,
        "/session",
        &[("cookie", &cookie), CSRF],
        None,
    )
    .await?;
    assert_eq!(out.status, 204);
    assert!(
        out.set_cookie().starts_with("chinwag_session=;"),
        "{}",
        out.set_cookie()
    );
    assert!(out.set_cookie().contains("Max-Age=0"));
    let after = send(&server, Method::GET, "/me", &[("cookie", &cookie)], None).await?;
    assert_eq!(
        (after.status, after.code()),
        (401, "unauthorized"),
        "signed out"
    );
    let other = send(&server, Method::GET, "/me", &[("cookie", &again)], None).await?;
    assert_eq!(other.status, 200, "the other session lives on");
    let forged = format!("chinwag_session={}", "0".repeat(64));
    for bad in [forged.as_str(), "chinwag_session=garbage"] {
        let a = send(&server, Method::GET, "/me", &[("cookie", bad)], None).await?;
        assert_eq!((a.status, a.code()), (401, "unauthorized"), "{bad}");
    }
    Ok(())
}

#[tokio::test]
async fn the_sixth_failure_is_locked_out_for_known_and_unknown_ids() -> R {
    let cfg = config_with("", &[("alice", PASSWORD), ("bob", PASSWORD)])?;
    let server = Server::start(&cfg).await?;
    for id in ["alice", "ghost"] {
        for n in 1..=5 {
            let a = sign_in(&server, id, "wrong password").await?;
            assert_eq!((a.status, a.code()), (401, "bad_credentials"), "{id} #{n}");
        }
        // Even the right password waits out the lock.
        let a = sign_in(&server, id, PASSWORD).await?;
        assert_eq!(
            (a.status, a.code()),
            (429, "locked_out"),
            "{id}: {}",
            a.body
        );
        let retry: u64 = a
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .ok_or("Retry-After")?;
        assert!((1..=30).contains(&retry), "{retry}");
    }
    let bob = sign_in(&server, "bob", PASSWORD).await?;
    assert_eq!(bob.status, 200, "counted per id: {}", bob.body);
    Ok(())
}

#[tokio::test]
async fn demo_sign_in_only_while_the_demo_agent_is_the_only_one() -> R {
    let demo = Server::start("").await?;
    let origin = demo.base.clone();
    let a = send(
        &demo,
        Method::POST,
        "/session/demo",
        &[CSRF, ("origin", &origin)],
        None,
    )
    .await?;
    assert_eq!(
        (a.status, &a.body["id"]),
        (200, &"demo".into()),
        "{}",
        a.body
    );
    let cookie = a.cookie().ok_or("cookie")?;
    let me = send(&demo, Method::GET, "/me", &[("cookie", &cookie)], None).await?;
    assert_eq!(me.status, 200);
    let forged = send(&demo, Method::POST, "/session/demo", &[], None).await?;
    assert_eq!(
        (forged.status, forged.code()),
        (403, "forbidden"),
        "CSRF applies"
    );

    let cfg = config_with("", &[("alice", PASSWORD)])?;
    let real = Server::start(&cfg).await?;
    let a = send(&real, Method::POST, "/session/demo", &[CSRF], None).await?;
    assert_eq!((a.status, a.code()), (404, "not_found"), "{}", a.body);
    Ok(())
}

#[tokio::test]
async fn over_https_behind_a_trusted_proxy_the_cookie_is_host_prefixed_and_secure() -> R {
    let head = "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n";
    let cfg = config_with(head, &[("alice", PASSWORD)])?;
    let server = Server::start(&cfg).await?;
    let body = serde_json::json!({"id": "alice", "password": PASSWORD});
    let h = [
        CSRF,
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "chat.example"),
        ("origin", "https://chat.example"),
    ];
    let a = send(&server, Method::POST, "/session", &h, Some(body.clone())).await?;
    assert_eq!(a.status, 200, "{}", a.body);
    let set = a.set_cookie();
    assert!(set.starts_with("__Host-chinwag_session="), "{set}");
    assert!(set.contains("; Secure"), "{set}");
    let cookie = a.cookie().ok_or("cookie")?;
    let me_https = [("cookie", cookie.as_str()), ("x-forwarded-proto", "https")];
    let me = send(&server, Method::GET, "/me", &me_https, None).await?;
    assert_eq!(me.status, 200, "{}", me.body);
    let me = send(&server, Method::GET, "/me", &[("cookie", &cookie)], None).await?;
    assert_eq!(
        me.status, 401,
        "the __Host- cookie is not read over plain http"
    );

    let untrusted = "[server]\ntrusted_proxies = [\"10.9.9.9\"]\n";
    let cfg = config_with(untrusted, &[("alice", PASSWORD)])?;
    let server = Server::start(&cfg).await?;
    let h = [CSRF, ("x-forwarded-proto", "https")];
    let a = send(&server, Method::POST, "/session", &h, Some(body)).await?;
    assert!(
        a.set_cookie().starts_with("chinwag_session="),
        "{}",
        a.set_cookie()
    );
    assert!(
        !a.set_cookie().contains("Secure"),
        "an untrusted peer's header is ignored"
    );
    Ok(())
}
