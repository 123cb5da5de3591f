//! The agent API router in-process, sent requests with tower's `oneshot`: per case a fresh
//! app (see [`crate::requests`]) and a few generated requests. Every request must be answered
//! (in virtual time) with JSON: a success (any JSON, or an empty `204`), or an error in its
//! envelope `{"error":{"code","message"}}` with a 4xx status; never plain text, a panic or a
//! 5xx (the in-memory store cannot fail).

use crate::requests::{Req, app, req};
use crate::support::{answered, fuzz};
use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

fn request(r: &Req, chat: &str, offer: &str) -> Option<Request<Body>> {
    let path = r.path.replace("$chat", chat).replace("$offer", offer);
    let body = r.body.bytes(&path);
    let uri = match &r.query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut req = Request::new(Body::from(body));
    *req.method_mut() = r.method.clone();
    *req.uri_mut() = uri.parse().ok()?;
    let h = req.headers_mut();
    if let Some(t) = &r.token {
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(t).ok()?);
    }
    if let Some(c) = r.content_type {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(c));
    }
    Some(req)
}

fn answer_ok(status: u16, ctype: &str, body: &str) -> Result<(), TestCaseError> {
    prop_assert!(status < 500, "{} answered: {}", status, body);
    if status == 204 {
        prop_assert!(body.is_empty(), "{}", body);
        return Ok(());
    }
    prop_assert!(
        ctype.starts_with("application/json"),
        "{} {:?}: {}",
        status,
        ctype,
        body
    );
    let v: Value = serde_json::from_str(body)
        .map_err(|e| TestCaseError::fail(format!("{status} not JSON ({e}): {body}")))?;
    if status >= 400 {
        let e = &v["error"];
        prop_assert!(
            v.as_object().is_some_and(|o| o.len() == 1)
                && e["code"].as_str().is_some_and(|c| !c.is_empty())
                && e["message"].is_string(),
            "{} not an error envelope: {}",
            status,
            body
        );
    } else {
        prop_assert_eq!(status, 200, "{}", body);
        prop_assert!(v.get("error").is_none(), "{}", body);
    }
    Ok(())
}

/// Runs one case on a fresh app.
async fn run(reqs: Vec<Req>) -> Result<(), TestCaseError> {
    let (app, chat, offer) = app().await?;
    for r in &reqs {
        let Some(req) = request(r, &chat, &offer) else {
            continue;
        };
        let res = app
            .clone()
            .oneshot(req)
            .await
            .unwrap_or_else(|e| match e {});
        let status = res.status().as_u16();
        let ctype = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|e| format!("<body failed: {e}>"));
        answer_ok(status, &ctype, &body)?;
    }
    Ok(())
}

#[test]
fn fuzz_agent_api_requests() {
    fuzz(
        "agent_api_requests",
        128,
        || vec(req(), 1..6),
        |reqs| answered(run(reqs))?,
    );
}
