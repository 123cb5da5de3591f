//! The cross-site rules of cookie-authenticated requests, over the real server: unsafe
//! methods need `X-Chinwag-Csrf: 1`; `Sec-Fetch-Site: cross-site` and a foreign `Origin` are
//! refused; the event stream needs its own `Origin` and closes when its session ends; a
//! bearer token is not held to any of it.

use crate::common::*;
use crate::console_kit::*;
use futures_util::StreamExt;
use reqwest::Method;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const CSRF: (&str, &str) = ("x-chinwag-csrf", "1");

/// A request's method, path and headers, and the status it must get.
type Case<'a> = (Method, &'a str, Vec<(&'a str, &'a str)>, u16);

async fn server_and_cookie() -> R<(Server, String)> {
    let head = "[[agents]]\nid = \"tok\"\ntoken = \"token-of-tok\"\n";
    let cfg = config_with(head, &[("alice", PASSWORD)])?;
    let server = Server::start(&cfg).await?;
    let cookie = session(&server, "alice", PASSWORD).await?;
    Ok((server, cookie))
}

#[tokio::test]
async fn unsafe_methods_need_the_header_and_other_sites_are_refused() -> R {
    let (server, cookie) = server_and_cookie().await?;
    let own = server.base.clone();
    let c = ("cookie", cookie.as_str());
    let cases: [Case; 9] = [
        (Method::POST, "/login", vec![c], 403),
        (
            Method::POST,
            "/login",
            vec![c, ("x-chinwag-csrf", "yes")],
            403,
        ),
        (Method::POST, "/login", vec![c, CSRF], 200),
        (Method::POST, "/login", vec![c, CSRF, ("origin", &own)], 200),
        (
            Method::POST,
            "/login",
            vec![c, CSRF, ("origin", "http://evil.example")],
            403,
        ),
        (Method::GET, "/me", vec![c, ("origin", "null")], 403),
        (
            Method::GET,
            "/me",
            vec![c, ("sec-fetch-site", "cross-site")],
            403,
        ),
        (
            Method::GET,
            "/me",
            vec![c, ("sec-fetch-site", "same-site")],
            403,
        ),
        (
            Method::GET,
            "/me",
            vec![c, ("sec-fetch-site", "same-origin")],
            200,
        ),
    ];
    for (method, path, headers, want) in cases {
        let a = send(&server, method.clone(), path, &headers, None).await?;
        assert_eq!(a.status, want, "{method} {path} {headers:?}: {}", a.body);
        if want == 403 {
            assert_eq!(a.code(), "forbidden", "{}", a.body);
        }
    }
    // A file download is held to the same rules.
    let dl = [c, ("sec-fetch-site", "cross-site")];
    let a = send(&server, Method::GET, "/chats/X/files/Y", &dl, None).await?;
    assert_eq!((a.status, a.code()), (403, "forbidden"));
    // Signing in and out are, too.
    let body = serde_json::json!({"id": "alice", "password": PASSWORD});
    let a = send(&server, Method::POST, "/session", &[], Some(body.clone())).await?;
    assert_eq!((a.status, a.code()), (403, "forbidden"), "no header");
    let foreign = [CSRF, ("origin", "http://evil.example")];
    let a = send(&server, Method::POST, "/session", &foreign, Some(body)).await?;
    assert_eq!((a.status, a.code()), (403, "forbidden"), "foreign origin");
    let a = send(&server, Method::DELETE, "/session", &[c], None).await?;
    assert_eq!((a.status, a.code()), (403, "forbidden"), "forged sign-out");
    let me = send(&server, Method::GET, "/me", &[c], None).await?;
    assert_eq!(me.status, 200, "still signed in");
    // A bearer token is not a browser's: none of this applies.
    let b = [
        ("authorization", "Bearer token-of-tok"),
        ("sec-fetch-site", "cross-site"),
        ("origin", "http://evil.example"),
    ];
    let a = send(&server, Method::POST, "/login", &b, None).await?;
    assert_eq!(a.status, 200, "{}", a.body);
    Ok(())
}

/// Opens the event stream with `cookie` and `origin`: the socket, or the refusal's status.
async fn stream(
    server: &Server,
    cookie: &str,
    origin: Option<&str>,
) -> R<
    Result<
        tokio_tungstenite::WebSocketStream<
            impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
        >,
        u16,
    >,
> {
    let url = format!("ws://{}/agent/v1/events", server.addr());
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("cookie", HeaderValue::from_str(cookie)?);
    if let Some(o) = origin {
        req.headers_mut()
            .insert("origin", HeaderValue::from_str(o)?);
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(Ok(ws)),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Ok(Err(res.status().as_u16())),
        Err(e) => Err(e.into()),
    }
}

#[tokio::test]
async fn the_event_stream_needs_its_own_origin_and_ends_with_the_session() -> R {
    let (server, cookie) = server_and_cookie().await?;
    let own = server.base.clone();
    assert_eq!(
        stream(&server, &cookie, Some("http://evil.example"))
            .await?
            .err(),
        Some(403)
    );
    assert_eq!(
        stream(&server, &cookie, None).await?.err(),
        Some(403),
        "no Origin"
    );
    let mut ws = stream(&server, &cookie, Some(&own))
        .await?
        .map_err(|s| format!("refused {s}"))?;
    let first = tokio::time::timeout(Duration::from_secs(5), ws.next()).await?;
    let Some(Ok(Message::Text(t))) = first else {
        return Err(format!("no status frame: {first:?}").into());
    };
    let v: serde_json::Value = serde_json::from_str(&t)?;
    assert_eq!(
        (&v["type"], &v["status"]["id"]),
        (&"status".into(), &"alice".into())
    );

    let out = [("cookie", cookie.as_str()), CSRF];
    let a = send(&server, Method::DELETE, "/session", &out, None).await?;
    assert_eq!(a.status, 204);
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(m) = ws.next().await {
            if let Ok(Message::Close(Some(f))) = m {
                return Some((u16::from(f.code), f.reason.to_string()));
            }
        }
        None
    })
    .await?;
    assert_eq!(closed, Some((1008, "signed out".to_owned())));
    assert_eq!(
        stream(&server, &cookie, Some(&own)).await?.err(),
        Some(401),
        "ended"
    );
    Ok(())
}
