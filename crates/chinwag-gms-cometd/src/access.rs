//! Who may start a chat on a service over CometD: the same rules as REST — the service's
//! `apikey` (as a request header, or in the `requestChat` data for WebSocket and JSONP
//! clients that cannot set headers), its basic auth (`auth` in the data, or an
//! `Authorization` header), and its allowed browser origins. Later operations are
//! authorized by their `secureKey`.

use crate::GmsCometd;
use crate::handler::Failure;
use crate::op::{Auth, RequestChat};
use base64::Engine;
use chinwag_bayeux::ServiceCall;
use chinwag_http::Origins;
use std::net::IpAddr;
use subtle::ConstantTimeEq;

/// One service's access rules on CometD.
#[derive(Debug, Clone, Default)]
pub struct CometAccess {
    /// Required `apikey`.
    pub apikey: Option<String>,
    /// Required basic credentials `(user, password)`.
    pub basic_auth: Option<(String, String)>,
    /// Browser origins allowed.
    pub origins: Origins,
}

/// What the transport says about the publisher.
#[derive(Debug, Clone, Default)]
pub(crate) struct Caller {
    /// The client's address (rate limits).
    pub(crate) remote: Option<IpAddr>,
    /// The `Origin` of the request (or of the WebSocket upgrade).
    pub(crate) origin: Option<String>,
    /// The `Host` it was sent to.
    pub(crate) host: Option<String>,
    /// The `apikey` header.
    pub(crate) apikey: Option<String>,
    /// The `Authorization` header.
    pub(crate) authorization: Option<String>,
}

impl Caller {
    /// What `call` carries (the binary forwards `apikey`, `authorization` and `host`).
    pub(crate) fn of(call: &ServiceCall<'_>) -> Self {
        let header = |name| call.header(name).map(str::to_owned);
        Self {
            remote: call.remote,
            origin: call.origin.map(str::to_owned),
            host: header("host"),
            apikey: header("apikey"),
            authorization: header("authorization"),
        }
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn denied(code: u16, advice: &str) -> Failure {
    Failure {
        code,
        advice: advice.into(),
        chat_ended: false,
        temporary: false,
    }
}

impl GmsCometd {
    /// Checks a `requestChat` against the service's rules.
    pub(crate) fn admit(
        &self,
        service: &str,
        caller: &Caller,
        req: &RequestChat,
    ) -> Result<(), Failure> {
        let Some(rules) = self.access.get(service) else {
            return Ok(());
        };
        if !rules
            .origins
            .allows(caller.origin.as_deref(), caller.host.as_deref())
        {
            return Err(denied(403, "this origin is not allowed to use the service"));
        }
        if let Some(key) = &rules.apikey {
            let given = caller.apikey.as_deref().or(req.apikey.as_deref());
            if !given.is_some_and(|g| eq(g, key)) {
                return Err(denied(401, "not authorized"));
            }
        }
        if let Some((user, pass)) = &rules.basic_auth {
            let expected = format!("{user}:{pass}");
            let given = credentials(req.auth.as_ref(), caller.authorization.as_deref());
            if !given.is_some_and(|g| eq(&g, &expected)) {
                return Err(denied(401, "not authorized"));
            }
        }
        Ok(())
    }
}

/// `user:password` from the `auth` of the data, else from a basic `Authorization` header.
fn credentials(auth: Option<&Auth>, header: Option<&str>) -> Option<String> {
    let decode = |e: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(e.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    };
    match auth {
        Some(Auth::Open(u, p)) => Some(format!("{u}:{p}")),
        Some(Auth::Encoded(e)) => decode(e),
        None => header
            .and_then(|h| {
                h.strip_prefix("Basic ")
                    .or_else(|| h.strip_prefix("basic "))
            })
            .and_then(decode),
    }
}
