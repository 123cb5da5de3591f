//! Requests of the router target: what they carry (near-valid or damaged batches, any
//! bytes), how they are sent (JSON or form POSTs, JSONP GETs with a callback before or after
//! the messages, other methods), from which origin and browser, and for each the HTTP request
//! and what it must get back.

use crate::expect::{Expect, callback_of, form_messages, ids_of, processed};
use crate::inputs::{Msg, message};
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, header};
use chinwag_bayeux::message::parse_batch;
use chinwag_http::{Origins, Peer};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;

/// Most messages in one batch.
pub(crate) const MAX_BATCH: usize = 4;
/// Largest body.
pub(crate) const MAX_BYTES: usize = 2048;
/// The `Host` requests are sent to.
const HOST: &str = "chat.example";

/// What a request carries.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// Messages: a single object or an array, padded with `usize` spaces.
    Batch(Vec<Msg>, bool, usize),
    /// Anything.
    Raw(Vec<u8>),
}

/// How it is sent.
#[derive(Debug, Clone)]
pub(crate) enum Via {
    /// A POST with this content type.
    Post(Option<&'static str>),
    /// A form POST, one `message` field per message if `true`.
    Form(bool),
    /// A JSONP GET with this callback, before the messages if `true`.
    Jsonp(Option<String>, bool),
    /// Another method.
    Other(Method),
}

#[derive(Debug, Clone)]
pub(crate) struct Req {
    via: Via,
    payload: Payload,
    path: &'static str,
    own_cookie: bool,
    origin: Option<&'static str>,
    peer: Option<u8>,
}

fn payload() -> impl Strategy<Value = Payload> {
    let pad = prop_oneof![8 => Just(0usize), 1 => 0usize..3000];
    prop_oneof![
        12 => (vec(message(), 0..6), any::<bool>(), pad).prop_map(|(m, s, p)| Payload::Batch(m, s, p)),
        1 => vec(any::<u8>(), 0..100).prop_map(Payload::Raw),
        1 => "[\\[\\]{}\",:a-z0-9/ ]{0,60}".prop_map(|s| Payload::Raw(s.into_bytes())),
    ]
}

fn via() -> impl Strategy<Value = Via> {
    let ctype = prop::sample::select(vec![
        Some("application/json"),
        Some("application/json;charset=UTF-8"),
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ]);
    let callback = prop_oneof![
        3 => Just(Some("_cometd_jsonp_1".to_owned())),
        1 => Just(None),
        2 => "\\PC{0,12}".prop_map(Some),
        1 => "[a-z$_.]{1,8}".prop_map(Some),
    ];
    let other = prop::sample::select(vec![
        Method::OPTIONS,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::HEAD,
    ]);
    prop_oneof![
        6 => ctype.prop_map(Via::Post),
        2 => any::<bool>().prop_map(Via::Form),
        3 => (callback, any::<bool>()).prop_map(|(c, f)| Via::Jsonp(c, f)),
        1 => other.prop_map(Via::Other),
    ]
}

/// One request: how it is sent, what it carries, its path suffix, cookie, origin and peer.
pub(crate) fn req() -> impl Strategy<Value = Req> {
    let path = prop::sample::select(vec!["", "/", "/handshake", "/connect", "/a/b"]);
    let origin = prop::sample::select(vec![
        None,
        None,
        None,
        None,
        Some("https://good.example"),
        Some("https://good.example"),
        Some("https://evil.example"),
        Some("http://chat.example"),
        Some("null"),
    ]);
    (
        via(),
        payload(),
        path,
        any::<bool>(),
        origin,
        proptest::option::of(0u8..4),
    )
        .prop_map(|(via, payload, path, own_cookie, origin, peer)| Req {
            via,
            payload,
            path,
            own_cookie,
            origin,
            peer,
        })
}

/// The case's session: client id and browser cookie.
#[derive(Default)]
pub(crate) struct Own {
    pub(crate) id: Option<String>,
    pub(crate) cookie: Option<String>,
}

/// The texts a payload sends (one per message for split forms).
fn texts(p: &Payload, own: &Own, split: bool) -> Vec<Vec<u8>> {
    match p {
        Payload::Raw(b) => vec![b.clone()],
        Payload::Batch(msgs, single, pad) => {
            let vals: Vec<Value> = msgs.iter().map(|m| m.to_json(own.id.as_deref())).collect();
            let mut out: Vec<String> = if split {
                vals.iter().map(Value::to_string).collect()
            } else if *single && vals.len() == 1 {
                vec![vals[0].to_string()]
            } else {
                vec![Value::Array(vals).to_string()]
            };
            if let Some(last) = out.last_mut() {
                last.push_str(&" ".repeat(*pad));
            }
            out.into_iter().map(String::into_bytes).collect()
        }
    }
}

fn form(fields: &[(&str, &[u8])]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, &String::from_utf8_lossy(v));
    }
    s.finish()
}

/// The HTTP request for `r` and what it must get back.
pub(crate) fn build(r: &Req, own: &Own, allowed: &Origins) -> (Request<Body>, Expect) {
    let denied = !allowed.allows(r.origin, Some(HOST));
    let (method, query, ctype, body, expect) = match &r.via {
        Via::Other(m) => {
            let status = if *m == Method::OPTIONS { 204 } else { 405 };
            (m.clone(), None, None, Vec::new(), Expect::Status(status))
        }
        Via::Post(ctype) => {
            let body = texts(&r.payload, own, false).concat();
            let is_form = ctype.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
            let expect = if denied {
                Expect::Denied
            } else if body.len() > MAX_BYTES {
                Expect::BadRequest
            } else if is_form {
                match form_messages(&body) {
                    Some(m) if !m.is_empty() => processed(&m, MAX_BATCH),
                    _ => Expect::BadRequest,
                }
            } else {
                parse_batch(&body).map_or(Expect::BadRequest, |m| processed(&m, MAX_BATCH))
            };
            (Method::POST, None, *ctype, body, expect)
        }
        Via::Form(split) => {
            let texts = texts(&r.payload, own, *split);
            let mut fields: Vec<(&str, &[u8])> = vec![("x", b"1")];
            fields.extend(texts.iter().map(|t| ("message", t.as_slice())));
            let body = form(&fields).into_bytes();
            let expect = if denied {
                Expect::Denied
            } else if body.len() > MAX_BYTES {
                Expect::BadRequest
            } else {
                match form_messages(&body) {
                    Some(m) if !m.is_empty() => processed(&m, MAX_BATCH),
                    _ => Expect::BadRequest,
                }
            };
            (
                Method::POST,
                None,
                Some("application/x-www-form-urlencoded"),
                body,
                expect,
            )
        }
        Via::Jsonp(callback, first) => {
            let texts = texts(&r.payload, own, false);
            let mut fields: Vec<(&str, &[u8])> =
                texts.iter().map(|t| ("message", t.as_slice())).collect();
            if let Some(c) = callback {
                let at = if *first { 0 } else { fields.len() };
                fields.insert(at, ("jsonp", c.as_bytes()));
            }
            let query = form(&fields);
            let cb = callback_of(query.as_bytes());
            let expect = if !chinwag_bayeux::jsonp::valid_callback(&cb) {
                Expect::BadCallback
            } else {
                let inner = match form_messages(query.as_bytes()) {
                    None => Expect::BadRequest,
                    Some(m) if denied && m.is_empty() => Expect::Denied,
                    Some(m) if denied => Expect::DeniedEach(ids_of(&m)),
                    Some(m) if m.is_empty() => Expect::BadRequest,
                    Some(m) => processed(&m, MAX_BATCH),
                };
                Expect::Script(cb, Box::new(inner))
            };
            (Method::GET, Some(query), None, Vec::new(), expect)
        }
    };
    let uri = match query {
        Some(q) => format!("/cometd{}?{q}", r.path),
        None => format!("/cometd{}", r.path),
    };
    let mut req = Request::new(Body::from(body));
    *req.method_mut() = method;
    *req.uri_mut() = uri.parse().unwrap_or_else(|e| panic!("{uri}: {e}"));
    let h = req.headers_mut();
    h.insert(header::HOST, HeaderValue::from_static(HOST));
    if let Some(c) = ctype {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(c));
    }
    if let Some(o) = r.origin {
        h.insert(header::ORIGIN, HeaderValue::from_static(o));
    }
    if let Some(c) = own.cookie.as_ref().filter(|_| r.own_cookie)
        && let Ok(v) = HeaderValue::from_str(&format!("BAYEUX_BROWSER={c}"))
    {
        h.insert(header::COOKIE, v);
    }
    if let Some(p) = r.peer {
        req.extensions_mut()
            .insert(Peer(([10, 0, 0, p], 4000).into()));
    }
    (req, expect)
}
