//! `[web]` switches on the real binary: the demo follows the demo agent with `"auto"` (on
//! with no `[[agents]]`, off with real ones) and `demo = true|false` overrides that;
//! `console = false` removes `/console`. What is switched off is the binary's JSON 404, as
//! before the web parts existed.

use crate::common::*;
use crate::web_kit::*;

const REAL_AGENT: &str = "[[agents]]\nid = \"alice\"\ntoken = \"alice-token-123\"\n";

/// Status of `/` and `/demo/demo.css`, and whether `/` answered the JSON 404.
async fn demo_state(server: &Server) -> R<(u16, u16, bool)> {
    let root = client().get(format!("{}/", server.base)).send().await?;
    let root_status = root.status().as_u16();
    let json_404 = h(&root, "content-type").starts_with("application/json");
    let css = client()
        .get(format!("{}/demo/demo.css", server.base))
        .send()
        .await?;
    Ok((root_status, css.status().as_u16(), json_404))
}

#[tokio::test]
async fn the_demo_is_on_without_agents_and_off_with_real_ones_unless_overridden() -> R {
    for (config, on) in [
        (String::new(), true),
        (REAL_AGENT.to_owned(), false),
        (format!("{REAL_AGENT}[web]\ndemo = true\n"), true),
        ("[web]\ndemo = false\n".to_owned(), false),
        (format!("{REAL_AGENT}[web]\ndemo = \"auto\"\n"), false),
    ] {
        let server = Server::start(&config).await?;
        let state = demo_state(&server).await?;
        let expected = if on {
            (200, 200, false)
        } else {
            (404, 404, true)
        };
        assert_eq!(state, expected, "config {config:?}");
        let widget = client()
            .get(format!("{}/widget/x.js", server.base))
            .send()
            .await?;
        assert_eq!(
            h(&widget, "access-control-allow-origin"),
            "*",
            "the widget always is"
        );
    }
    Ok(())
}

#[tokio::test]
async fn console_false_removes_the_console() -> R {
    let server = Server::start("[web]\nconsole = false\n").await?;
    for path in ["/console", "/console/", "/console/app.js"] {
        let r = client()
            .get(format!("{}{path}", server.base))
            .send()
            .await?;
        assert_eq!(r.status().as_u16(), 404, "{path}");
        assert_eq!(
            h(&r, "content-security-policy"),
            "",
            "{path}: not the console's answer"
        );
        assert_eq!(r.text().await?, r#"{"error":"not found"}"#, "{path}");
    }
    let on = Server::start("[web]\nconsole = true\n").await?;
    let r = client()
        .get(format!("{}/console/app.js", on.base))
        .send()
        .await?;
    assert!(h(&r, "content-security-policy").ends_with("require-trusted-types-for 'script'"));
    Ok(())
}
