//! Console sessions, held in this node's memory: a random 256-bit id (the cookie's value)
//! names an agent until it is signed out, goes [`IDLE`] without use, or reaches [`LIFETIME`].
//! Every authenticated request and every open event stream keeps its session in use. An
//! agent holds at most [`PER_AGENT`] sessions: one more sign-in ends the least recently
//! used, so the table is bounded by the number of configured accounts.
//!
//! Each session carries a cancellation token, fired when it ends, which closes the event
//! streams it opened.

use chinwag_core::ids::AgentId;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Longest a session lives, however busy.
pub(crate) const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// A session unused this long is over.
pub(crate) const IDLE: Duration = Duration::from_secs(3600);
/// Most sessions one agent holds.
pub(crate) const PER_AGENT: usize = 64;

/// A session id: 32 random bytes, as 64 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SessionId(String);

impl SessionId {
    /// A fresh random id.
    fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The id of a cookie value, if it has the shape of one.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        (text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(text.to_owned()))
    }

    /// The cookie value.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug)]
struct Session {
    agent: AgentId,
    created: Instant,
    last_used: Instant,
    ended: CancellationToken,
}

impl Session {
    fn live(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.created) < LIFETIME
            && now.saturating_duration_since(self.last_used) < IDLE
    }
}

/// A live session, as a request sees it.
#[derive(Debug, Clone)]
pub(crate) struct Live {
    /// Whose it is.
    pub(crate) agent: AgentId,
    /// Fires when it ends.
    pub(crate) ended: CancellationToken,
}

/// The session table.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    by_id: HashMap<SessionId, Session>,
}

impl Sessions {
    /// Opens a session for `agent` at `now`, ending its least recently used one if it
    /// already holds [`PER_AGENT`].
    pub(crate) fn open(
        &mut self,
        agent: &AgentId,
        now: Instant,
    ) -> Result<SessionId, getrandom::Error> {
        self.by_id.retain(|_, s| {
            let keep = s.live(now);
            if !keep {
                s.ended.cancel();
            }
            keep
        });
        let mine: Vec<(&SessionId, Instant)> = self
            .by_id
            .iter()
            .filter(|(_, s)| &s.agent == agent)
            .map(|(id, s)| (id, s.last_used))
            .collect();
        if mine.len() >= PER_AGENT
            && let Some(oldest) = mine
                .iter()
                .min_by_key(|(_, t)| *t)
                .map(|(id, _)| (*id).clone())
        {
            self.close(&oldest);
        }
        let id = SessionId::generate()?;
        self.by_id.insert(
            id.clone(),
            Session {
                agent: agent.clone(),
                created: now,
                last_used: now,
                ended: CancellationToken::new(),
            },
        );
        Ok(id)
    }

    /// The live session `id`, marked used at `now`; an expired one is ended and forgotten.
    pub(crate) fn touch(&mut self, id: &SessionId, now: Instant) -> Option<Live> {
        let s = self.by_id.get_mut(id)?;
        if !s.live(now) {
            self.close(id);
            return None;
        }
        s.last_used = now;
        Some(Live {
            agent: s.agent.clone(),
            ended: s.ended.clone(),
        })
    }

    /// Ends session `id` (signed out), closing its event streams.
    pub(crate) fn close(&mut self, id: &SessionId) {
        if let Some(s) = self.by_id.remove(id) {
            s.ended.cancel();
        }
    }

    /// Sessions held (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type R = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn ids_are_fresh_and_only_well_formed_values_parse() -> R {
        let a = SessionId::generate()?;
        assert_ne!(a, SessionId::generate()?);
        assert_eq!(SessionId::parse(a.as_str()), Some(a));
        assert_eq!(SessionId::parse("abc"), None);
        assert_eq!(SessionId::parse(&"G".repeat(64)), None);
        Ok(())
    }

    #[test]
    fn idle_and_absolute_expiry_and_sign_out() -> R {
        let mut s = Sessions::default();
        let alice = AgentId::new("alice");
        let t0 = Instant::now();
        let id = s.open(&alice, t0)?;
        let step = IDLE - Duration::from_secs(1);
        let mut t = t0;
        while t + step < t0 + LIFETIME {
            t += step;
            assert!(s.touch(&id, t).is_some(), "use keeps it alive");
        }
        assert!(s.touch(&id, t0 + LIFETIME).is_none(), "absolute lifetime");
        let id = s.open(&alice, t)?;
        assert!(s.touch(&id, t + IDLE).is_none(), "idle");
        let id = s.open(&alice, t)?;
        let live = s.touch(&id, t).ok_or("live")?;
        s.close(&id);
        assert!(live.ended.is_cancelled(), "streams told");
        assert!(s.touch(&id, t).is_none(), "signed out");
        Ok(())
    }

    #[test]
    fn an_agent_holds_a_bounded_number() -> R {
        let mut s = Sessions::default();
        let alice = AgentId::new("alice");
        let t0 = Instant::now();
        let first = s.open(&alice, t0)?;
        for i in 1..=PER_AGENT {
            s.open(&alice, t0 + Duration::from_millis(i as u64))?;
        }
        assert_eq!(s.len(), PER_AGENT);
        assert!(
            s.touch(&first, t0).is_none(),
            "the least recently used went"
        );
        Ok(())
    }
}
