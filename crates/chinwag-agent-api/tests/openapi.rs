//! The OpenAPI document (`openapi.json`) against the router, over real sockets. The router's
//! paths are read from the crate's own source (every `.route("…")` under `src/`, so a route
//! added anywhere is seen), and each path's methods from the server's `405` answer to a
//! method no route takes (its `Allow` header). The document must list exactly those paths
//! and methods, and every documented operation must reach a handler (anything but
//! `404 not_found` and `405`). The document itself is served without credentials.

mod serve;

use chinwag_agent_api::console::{Console, ConsoleSettings};
use chinwag_agent_api::{AgentState, router};
use chinwag_core::ChatEngine;
use chinwag_core::ids::{AgentId, NodeAlias, QueueName};
use chinwag_core::memstore::MemoryStore;
use chinwag_core::ports::SystemClock;
use chinwag_core::settings::{AgentAccount, AgentRole, EngineSettings, QueueSettings};
use chinwag_http::Settings;
use reqwest::Method;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The document, as the crate embeds it.
const DOCUMENT: &str = include_str!("../openapi.json");

/// Operations the document describes that the router does not serve yet (none today). Each
/// must still answer `404 not_found`/`405` here, so this list fails as soon as one is
/// served: remove it from the list then (and from `tests/node/agent-openapi.test.mjs`).
const NOT_YET: &[(&str, &str)] = &[];

/// The method no route takes: asked of each path, it gets `405` and the path's `Allow`.
const PROBE: Method = Method::PATCH;

struct Running {
    base: String,
    http: reqwest::Client,
    stop: CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Serves the agent API with one agent and the console's demo sign-in on (so that
/// `POST /session/demo` is a route that answers, not a `404`).
async fn start() -> R<Running> {
    let settings = EngineSettings {
        alias: NodeAlias(1),
        services: Vec::new(),
        queues: vec![QueueSettings {
            name: QueueName::new("q"),
            offer_timeout_ms: 60_000,
            max_wait_ms: None,
        }],
        agents: vec![AgentAccount {
            id: AgentId::new("a1"),
            name: "Alice".into(),
            token: "tok".into(),
            queues: vec![QueueName::new("q")],
            capacity: 1,
            role: AgentRole::Agent,
        }],
        ended_retention_ms: 0,
        push: Default::default(),
        desk: Default::default(),
    };
    let engine = ChatEngine::open(
        settings,
        Arc::new(MemoryStore::default()),
        Arc::new(SystemClock),
    )
    .await?;
    let stop = CancellationToken::new();
    let mut state = AgentState::new(engine.agents(), stop.clone());
    state.console = Arc::new(Console::new(ConsoleSettings {
        demo: Some(AgentId::new("a1")),
        max_verifications: 1,
        ..ConsoleSettings::default()
    }));
    let addr = serve::serve(Settings::default(), router(state), &stop).await?;
    Ok(Running {
        base: format!("http://{addr}/agent/v1"),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()?,
        stop,
    })
}

/// `path` with every `{parameter}` written `{}`: the router's and the document's names differ.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// A path of that shape to request (each parameter a plausible value).
fn concrete(shape: &str) -> String {
    shape.replace("{}", "0123456789ABCDEF0123456789ABCDEF")
}

/// The `*.rs` files under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> R {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sources(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Every path given to `.route(` in the crate's source, shaped; the API root's catch-alls
/// (`/agent/v1`, `/agent/v1/`) are not routes of the API.
fn routed_paths() -> R<BTreeSet<String>> {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    )?;
    let mut paths = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        for (at, _) in text.match_indices(".route(") {
            let rest = text[at + ".route(".len()..].trim_start();
            let literal = rest
                .strip_prefix('"')
                .and_then(|r| r.split_once('"'))
                .map(|(p, _)| p)
                .ok_or_else(|| {
                    format!(
                        "{}: a route whose path is not a string literal; this test reads them",
                        file.display()
                    )
                })?;
            if !literal.starts_with("/agent/v1") {
                paths.insert(shape(literal));
            }
        }
    }
    Ok(paths)
}

/// The document's operations: shaped path → methods.
fn documented(doc: &Value) -> R<BTreeMap<String, BTreeSet<String>>> {
    let paths = doc["paths"].as_object().ok_or("no paths")?;
    let mut out = BTreeMap::new();
    for (path, item) in paths {
        let item = item.as_object().ok_or("a path item that is no object")?;
        let methods = item
            .keys()
            .filter(|k| {
                matches!(
                    k.as_str(),
                    "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
                )
            })
            .map(|k| k.to_uppercase())
            .collect();
        out.insert(shape(path), methods);
    }
    Ok(out)
}

fn not_yet(method: &str, path: &str) -> bool {
    NOT_YET
        .iter()
        .any(|(m, p)| *m == method && shape(p) == shape(path))
}

/// The methods the router takes on `path` (a shape), from its `405`'s `Allow`; `None` when
/// the path is no route (`404`).
async fn served(run: &Running, path: &str) -> R<Option<BTreeSet<String>>> {
    let url = format!("{}{}", run.base, concrete(path));
    let res = run.http.request(PROBE, &url).send().await?;
    match res.status().as_u16() {
        404 => Ok(None),
        405 => {
            let allow = res
                .headers()
                .get("allow")
                .ok_or_else(|| format!("{path}: a 405 without Allow"))?
                .to_str()?;
            Ok(Some(
                allow
                    .split(',')
                    .map(|m| m.trim().to_owned())
                    // HEAD comes with every GET; the document lists the GET.
                    .filter(|m| m != "HEAD" && !m.is_empty())
                    .collect(),
            ))
        }
        s => Err(format!("{PROBE} {path} answered {s}: pick a probe method no route takes").into()),
    }
}

#[tokio::test]
async fn the_document_lists_every_route_and_method_the_router_serves() -> R {
    let doc: Value = serde_json::from_str(DOCUMENT)?;
    let documented = documented(&doc)?;
    let routed = routed_paths()?;
    assert!(
        routed.len() >= 10,
        "too few routes found in src/: {routed:?}"
    );
    let run = start().await?;
    for path in &routed {
        let methods = served(&run, path)
            .await?
            .ok_or_else(|| format!("{path} is in the source but not served under /agent/v1"))?;
        let listed: BTreeSet<String> = documented
            .get(path)
            .ok_or_else(|| format!("the router serves {path}; openapi.json lacks it"))?
            .iter()
            .filter(|m| !not_yet(m, path))
            .cloned()
            .collect();
        assert_eq!(
            methods, listed,
            "{path}: the router's methods (left) against the document's (right)"
        );
    }
    for (path, methods) in &documented {
        for method in methods {
            let pending = not_yet(method, path);
            let served = served(&run, path).await?;
            let is_served = served.as_ref().is_some_and(|m| m.contains(method));
            if pending {
                assert!(
                    !is_served,
                    "{method} {path} is served now: take it off NOT_YET (here and in the Node test)"
                );
            } else {
                assert!(
                    is_served && routed.contains(path),
                    "openapi.json documents {method} {path}; the router lacks it"
                );
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() -> R {
    let doc: Value = serde_json::from_str(DOCUMENT)?;
    let run = start().await?;
    for (path, methods) in documented(&doc)? {
        for method in methods {
            if not_yet(&method, &path) {
                continue;
            }
            // No credentials, no body: the handler's own refusal (401, 403, 400) or an answer.
            let url = format!("{}{}", run.base, concrete(&path));
            let res = run
                .http
                .request(Method::from_bytes(method.as_bytes())?, &url)
                .send()
                .await?;
            let status = res.status().as_u16();
            let body: Value = if status == 200 || status >= 400 {
                res.json().await?
            } else {
                Value::Null
            };
            let routing_miss =
                status == 405 || (status == 404 && body["error"]["code"] == "not_found");
            assert!(!routing_miss, "{method} {path}: {status} {body}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_document_is_served_without_credentials_and_revalidated() -> R {
    let run = start().await?;
    let url = format!("{}/openapi.json", run.base);
    let res = run.http.get(&url).send().await?;
    assert_eq!(res.status(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(header("cache-control").as_deref(), Some("no-cache"));
    let etag = header("etag").ok_or("no ETag")?;
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert_eq!(res.text().await?, DOCUMENT);

    let again = run
        .http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await?;
    assert_eq!(again.status(), 304);
    assert_eq!(again.text().await?, "");
    let other = run
        .http
        .get(&url)
        .header("if-none-match", "\"another\"")
        .send()
        .await?;
    assert_eq!(other.status(), 200);
    Ok(())
}

/// Every `$ref` in `v`, with where it is.
fn refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(r) = x.as_str() {
                        out.push((at.clone(), r));
                    }
                } else {
                    refs(x, format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                refs(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_document_is_well_formed() -> R {
    let doc: Value = serde_json::from_str(DOCUMENT)?;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1."))
    );
    // Every reference resolves inside the document.
    let mut found = Vec::new();
    refs(&doc, String::new(), &mut found);
    assert!(found.len() > 50, "{}", found.len());
    for (at, r) in found {
        let pointer = r
            .strip_prefix('#')
            .ok_or_else(|| format!("{at}: an outside reference {r}"))?;
        assert!(
            doc.pointer(pointer).is_some(),
            "{at}: {r} resolves to nothing"
        );
    }
    // Every operation: a unique id, answers, and its path's parameters declared.
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().ok_or("no paths")? {
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        for (method, op) in item.as_object().ok_or("no path item")? {
            if method == "parameters" {
                continue;
            }
            let id = op["operationId"].as_str().ok_or("no operationId")?;
            assert!(ids.insert(id.to_owned()), "{id} twice");
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
            let mut params = shared.clone();
            params.extend(op["parameters"].as_array().cloned().unwrap_or_default());
            for name in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
                let declared = params.iter().any(|p| {
                    let p = p["$ref"]
                        .as_str()
                        .and_then(|r| doc.pointer(r.trim_start_matches('#')))
                        .unwrap_or(p);
                    p["name"] == name && p["in"] == "path"
                });
                assert!(declared, "{method} {path}: parameter {name} not declared");
            }
        }
    }
    Ok(())
}
