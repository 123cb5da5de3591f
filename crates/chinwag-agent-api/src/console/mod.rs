//! Signing in from a browser (the agent console): passwords checked against configured
//! argon2id hashes ([`password`]), failures counted per id and locked out ([`lockout`]),
//! sessions named by an HttpOnly cookie ([`sessions`]), and the cross-site checks every
//! cookie-authenticated request passes ([`browser`]). The endpoints are in
//! `crate::session`; the bearer tokens of API clients are untouched by any of this.
//!
//! Sessions and failure counts live in this node's memory: in a cluster the console needs
//! sticky sessions at the load balancer (see `docs/agent-api.md`).

pub(crate) mod browser;
mod lockout;
mod password;
pub(crate) mod sessions;

pub use password::{
    MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, PasswordError, StoredHash, check_password,
    hash_password,
};

use crate::error::ApiError;
use axum::http::request::Parts;
use browser::Browser;
use chinwag_core::ids::AgentId;
use chinwag_http::TrustedProxies;
use password::{Verdict, Verifier};
use sessions::{Live, SessionId, Sessions};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// Longest account id a sign-in is checked for (longer ones name no account and are not
/// remembered).
const MAX_ID_BYTES: usize = 256;

/// What the console sign-in is built from.
#[derive(Debug, Clone, Default)]
pub struct ConsoleSettings {
    /// Each account that may sign in with a password, and its hash.
    pub passwords: Vec<(AgentId, StoredHash)>,
    /// The account `POST /session/demo` signs in without a password; `None`: that endpoint
    /// answers 404.
    pub demo: Option<AgentId>,
    /// Proxies whose `X-Forwarded-Proto` / `X-Forwarded-Host` are believed.
    pub trusted: TrustedProxies,
    /// Most password checks running at once (at least 1).
    pub max_verifications: usize,
}

/// The console sign-in state of a server.
#[derive(Debug)]
pub struct Console {
    passwords: HashMap<AgentId, StoredHash>,
    demo: Option<AgentId>,
    trusted: TrustedProxies,
    verifier: Verifier,
    lockout: Mutex<lockout::Lockout>,
    sessions: Mutex<Sessions>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A cookie-authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct CookieCaller {
    pub(crate) id: SessionId,
    pub(crate) live: Live,
}

impl Console {
    /// The console state.
    pub fn new(settings: ConsoleSettings) -> Self {
        Self {
            passwords: settings.passwords.into_iter().collect(),
            demo: settings.demo,
            trusted: settings.trusted,
            verifier: Verifier::new(settings.max_verifications),
            lockout: Mutex::default(),
            sessions: Mutex::default(),
        }
    }

    /// A console nobody can sign in to (no passwords, no demo).
    pub fn disabled() -> Self {
        Self::new(ConsoleSettings {
            max_verifications: 1,
            ..ConsoleSettings::default()
        })
    }

    /// Where `parts` comes from.
    pub(crate) fn browser(&self, parts: &Parts) -> Browser {
        Browser::of(parts, &self.trusted)
    }

    /// Checks `password` for account `id`: a new session, or why not.
    pub(crate) async fn sign_in(&self, id: &str, password: &str) -> Result<SessionId, ApiError> {
        if id.len() > MAX_ID_BYTES || password.len() > MAX_PASSWORD_BYTES {
            // Costs what a check does, and is remembered nowhere.
            let _ = self.verifier.verify(None, "").await;
            return Err(ApiError::bad_credentials());
        }
        let hash = self.passwords.get(&AgentId::new(id));
        let known = hash.is_some();
        if let Some(left) = lock(&self.lockout).locked(id, known, Instant::now()) {
            return Err(ApiError::locked_out(left.as_secs().max(1)));
        }
        match self.verifier.verify(hash, password).await {
            Verdict::Match => {
                lock(&self.lockout).succeed(id);
                self.open(&AgentId::new(id))
            }
            Verdict::Busy => Err(ApiError::busy()),
            Verdict::NoMatch => {
                if let Some(lock_for) = lock(&self.lockout).fail(id, known, Instant::now()) {
                    tracing::info!(agent = ?id, secs = lock_for.as_secs(), "console sign-in locked out");
                }
                Err(ApiError::bad_credentials())
            }
        }
    }

    /// Whether `POST /session/demo` signs anyone in.
    pub(crate) fn demo_on(&self) -> bool {
        self.demo.is_some()
    }

    /// The demo account's new session; `None` when demo sign-in is off.
    pub(crate) fn sign_in_demo(&self) -> Option<Result<(AgentId, SessionId), ApiError>> {
        let demo = self.demo.clone()?;
        Some(self.open(&demo).map(|s| (demo, s)))
    }

    fn open(&self, agent: &AgentId) -> Result<SessionId, ApiError> {
        lock(&self.sessions)
            .open(agent, Instant::now())
            .map_err(ApiError::internal)
    }

    /// Ends the session `id` (and its event streams).
    pub(crate) fn sign_out(&self, id: &SessionId) {
        lock(&self.sessions).close(id);
    }

    /// Marks session `id` used; `None` if it has ended.
    pub(crate) fn touch(&self, id: &SessionId) -> Option<Live> {
        lock(&self.sessions).touch(id, Instant::now())
    }

    /// The session of a request that carries the session cookie, after the cross-site
    /// checks (`websocket`: a handshake); `Ok(None)` when it carries no such cookie.
    pub(crate) fn caller(
        &self,
        parts: &Parts,
        websocket: bool,
    ) -> Result<Option<CookieCaller>, ApiError> {
        let browser = self.browser(parts);
        let Some(value) = browser.cookie(&parts.headers) else {
            return Ok(None);
        };
        browser.check(parts, websocket)?;
        let id = SessionId::parse(value).ok_or_else(ApiError::session_ended)?;
        let live = self.touch(&id).ok_or_else(ApiError::session_ended)?;
        Ok(Some(CookieCaller { id, live }))
    }
}
