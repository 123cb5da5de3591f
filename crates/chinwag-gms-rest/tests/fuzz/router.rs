//! The REST router in-process, sent requests with tower's `oneshot`: per case a fresh app, a
//! chat requested for real, then the generated requests (see [`crate::requests`]). Every
//! request must be answered (in virtual time) with GMS JSON: `statusCode` 0 on a 200,
//! `statusCode` 2 with one coded error and advice otherwise, or an empty `204` preflight;
//! never plain text, a panic or a 5xx.

use crate::requests::{Payload, Req, app, req};
use crate::support::{answered, fuzz};
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, header};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

/// The case's chat: id, user id and secure key.
struct Chat {
    id: String,
    user: String,
    key: String,
}

fn urlencoded(pairs: &[(String, String)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

fn multipart(pairs: &[(String, String)], cut: Option<usize>) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in pairs {
        let name = k.replace(['"', '\r', '\n'], "_");
        out.extend_from_slice(
            format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    out.extend_from_slice(b"--B--\r\n");
    if let Some(c) = cut {
        out.truncate(c);
    }
    out
}

fn request(r: &Req, chat: &Chat) -> Option<Request<Body>> {
    let mut pairs = Vec::new();
    if r.creds.0 {
        pairs.push(("userId".to_owned(), chat.user.clone()));
    }
    if r.creds.1 {
        pairs.push(("secureKey".to_owned(), chat.key.clone()));
    }
    let (body, ctype): (Vec<u8>, Option<&str>) = match &r.body {
        Payload::Form(p) => {
            pairs.extend(p.iter().cloned());
            (
                urlencoded(&pairs),
                Some("application/x-www-form-urlencoded"),
            )
        }
        Payload::Multipart(p, cut) => {
            pairs.extend(p.iter().cloned());
            (
                multipart(&pairs, *cut),
                Some("multipart/form-data; boundary=B"),
            )
        }
        Payload::Raw(b, c) => (b.clone(), *c),
    };
    let mut req = Request::new(Body::from(body));
    *req.method_mut() = r.method.clone();
    *req.uri_mut() = r.path.replace("$chat", &chat.id).parse().ok()?;
    let h = req.headers_mut();
    if let Some(c) = ctype {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(c).ok()?);
    }
    if let Some(o) = r.origin {
        h.insert(header::ORIGIN, HeaderValue::from_static(o));
    }
    h.insert(header::HOST, HeaderValue::from_static("chat.example"));
    if r.path.contains("/locked") && r.creds == (true, true) {
        h.insert("apikey", HeaderValue::from_static("k"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dTpw"),
        );
    }
    Some(req)
}

async fn send(app: &axum::Router, req: Request<Body>) -> (u16, String, String) {
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
    (status, ctype, body)
}

/// A GMS answer: JSON, `statusCode` 0 with a 200, otherwise 2 with one coded error.
fn gms_ok(method: &Method, status: u16, ctype: &str, body: &str) -> Result<Value, TestCaseError> {
    prop_assert!(status < 500, "{} answered: {}", status, body);
    if *method == Method::OPTIONS && status == 204 {
        prop_assert!(body.is_empty());
        return Ok(Value::Null);
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
    if status == 200 {
        prop_assert_eq!(&v["statusCode"], 0, "{}", body);
        prop_assert!(
            v["chatId"].is_string() && v["messages"].is_array(),
            "{}",
            body
        );
    } else {
        prop_assert_eq!(&v["statusCode"], 2, "{} {}", status, body);
        let e = &v["errors"][0];
        prop_assert!(e["code"].is_u64() && e["advice"].is_string(), "{}", body);
    }
    Ok(v)
}

/// Runs one case on a fresh app.
async fn run(reqs: Vec<Req>) -> Result<(), TestCaseError> {
    let app = app().await?;
    let mut start = Request::new(Body::from("nickname=Jo&userData%5Ba%5D=1"));
    *start.method_mut() = Method::POST;
    *start.uri_mut() = "/genesys/2/chat/svc"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    start.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let (status, ctype, body) = send(&app, start).await;
    let v = gms_ok(&Method::POST, status, &ctype, &body)?;
    prop_assert_eq!(status, 200, "{}", body);
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let chat = Chat {
        id: s("chatId"),
        user: s("userId"),
        key: s("secureKey"),
    };
    for r in &reqs {
        let Some(req) = request(r, &chat) else {
            continue;
        };
        let (status, ctype, body) = send(&app, req).await;
        gms_ok(&r.method, status, &ctype, &body)?;
    }
    Ok(())
}

#[test]
fn fuzz_rest_router_requests() {
    fuzz(
        "rest_router_requests",
        128,
        || vec(req(), 1..6),
        |reqs| answered(run(reqs))?,
    );
}
