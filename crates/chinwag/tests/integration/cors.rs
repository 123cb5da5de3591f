//! Browser origins over REST: a foreign origin is refused before anything runs, the
//! server's own origin and listed ones are served, and GMS paths Chinwag does not serve
//! answer in GMS format with CORS (so a browser sees the error, not a CORS failure).

use crate::common::*;
use serde_json::Value;

const CFG: &str = r#"
[services.customer-support]
cors_origins = ["https://shop.example"]
"#;

async fn open_sessions(server: &Server) -> R<u64> {
    let v: Value = client()
        .get(format!("{}/health", server.base))
        .send()
        .await?
        .json()
        .await?;
    v["open_sessions"].as_u64().ok_or_else(|| "no count".into())
}

#[tokio::test]
async fn a_foreign_origin_is_refused_before_anything_runs() -> R {
    let server = Server::start(CFG).await?;
    let url = format!("{}/", server.gms("customer-support"));
    let r = client()
        .post(&url)
        .header("origin", "https://evil.example")
        .form(&[("nickname", "ghost")])
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert_eq!(r.headers()["vary"], "Origin");
    let v: Value = r.json().await?;
    assert_eq!(v["statusCode"], 2);
    assert_eq!(v["errors"][0]["code"], 403);
    assert_eq!(
        open_sessions(&server).await?,
        0,
        "no ghost chat was created"
    );

    // The server's own origin (a page it serves) and a listed origin are served.
    let own = server.base.clone();
    for origin in [own.as_str(), "https://shop.example"] {
        let r = client()
            .post(&url)
            .header("origin", origin)
            .form(&[("nickname", "real")])
            .send()
            .await?;
        assert_eq!(r.status().as_u16(), 200, "{origin}");
        assert_eq!(r.headers()["vary"], "Origin");
    }
    assert_eq!(open_sessions(&server).await?, 2);
    Ok(())
}

#[tokio::test]
async fn unknown_gms_paths_answer_in_gms_format_with_cors() -> R {
    let server = Server::start(CFG).await?;
    let (chat, _) = request_chat(&server, &[("nickname", "Jo")]).await?;
    let deep = format!(
        "{}/genesys/2/chat/customer-support/{}/file/x/y/z",
        server.base, chat.chat_id
    );
    let other = format!("{}/genesys/2/chat-ntf/x", server.base);
    for url in [&deep, &other] {
        let pre = client()
            .request(reqwest::Method::OPTIONS, url)
            .header("origin", "https://shop.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "apikey")
            .send()
            .await?;
        assert_eq!(pre.status().as_u16(), 204, "{url}");
        assert_eq!(
            pre.headers()["access-control-allow-origin"],
            "https://shop.example"
        );
        assert!(
            pre.headers()["access-control-allow-headers"]
                .to_str()?
                .contains("apikey")
        );
        let r = client()
            .post(url)
            .header("origin", "https://shop.example")
            .form(&[("secureKey", chat.secure_key.as_str())])
            .send()
            .await?;
        assert_eq!(r.status().as_u16(), 404, "{url}");
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "https://shop.example"
        );
        let v: Value = r.json().await?;
        assert_eq!(v["statusCode"], 2, "{v}");
        assert_eq!(v["errors"][0]["code"], 404);
        assert!(v["referenceId"].is_string());
    }
    Ok(())
}
