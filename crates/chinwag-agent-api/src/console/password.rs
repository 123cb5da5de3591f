//! Console passwords: argon2id hashing (m = 19456 KiB, t = 2, p = 1, the OWASP minimum),
//! the check a configured hash must pass, and verification off the async runtime under a
//! bound on how many run at once (each one holds about 19 MiB and tens of milliseconds of a
//! CPU, so an unbounded number would let anyone exhaust the server by signing in).

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Fewest characters a console password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest console password, in bytes (a longer one is refused before any hashing).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Largest memory cost a configured hash may ask for, in KiB (256 MiB): the verification
/// bound times this is the most memory sign-ins can hold.
const MAX_M_COST_KIB: u32 = 256 * 1024;
/// Largest time cost a configured hash may ask for.
const MAX_T_COST: u32 = 16;
/// Longest a sign-in waits for a verification slot before it is answered `503`.
const SLOT_WAIT: Duration = Duration::from_secs(10);

/// Why a password or hash is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    /// Shorter than [`MIN_PASSWORD_CHARS`].
    #[error("a console password must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// Longer than [`MAX_PASSWORD_BYTES`].
    #[error("a console password must be at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// Not an argon2id PHC string this server can verify.
    #[error(
        "not an argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash; write one with `chinwag agent passwd`): {0}"
    )]
    BadHash(String),
    /// Hashing failed (no randomness for the salt).
    #[error("cannot hash the password: {0}")]
    Hashing(String),
}

/// The hasher with Chinwag's parameters.
fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(Params::DEFAULT_M_COST, 2, 1, None)
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks a new password's length.
pub fn check_password(password: &str) -> Result<(), PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

/// The argon2id PHC string of `password` with a fresh random salt (blocking: tens of ms).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    check_password(password)?;
    let hash = hasher()?
        .hash_password(password.as_bytes())
        .map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(hash.to_string())
}

/// A configured password hash that parsed and that this server will verify.
#[derive(Clone, Debug)]
pub struct StoredHash(PasswordHash);

impl StoredHash {
    /// Parses and checks a PHC string: argon2id, version 19, costs within bounds.
    pub fn parse(text: &str) -> Result<Self, PasswordError> {
        let bad = |m: String| PasswordError::BadHash(m);
        let hash = PasswordHash::new(text.trim()).map_err(|e| bad(e.to_string()))?;
        if hash.algorithm.as_str() != "argon2id" {
            return Err(bad(format!("algorithm is {}", hash.algorithm.as_str())));
        }
        let params = Params::try_from(&hash).map_err(|e| bad(e.to_string()))?;
        if params.m_cost() > MAX_M_COST_KIB || params.t_cost() > MAX_T_COST {
            return Err(bad(format!(
                "costs m={} t={} exceed m={MAX_M_COST_KIB} t={MAX_T_COST}",
                params.m_cost(),
                params.t_cost()
            )));
        }
        if hash.salt.is_none() || hash.hash.is_none() {
            return Err(bad("salt or hash missing".into()));
        }
        Ok(Self(hash))
    }

    /// Whether `password` matches (blocking: tens of ms).
    fn matches(&self, password: &str) -> bool {
        Argon2::default()
            .verify_password(password.as_bytes(), &self.0)
            .is_ok()
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The password matches.
    Match,
    /// It does not (or there was no hash to check: the dummy was checked instead).
    NoMatch,
    /// No verification slot came free in time.
    Busy,
}

/// Salt of the stand-in hash computed when an account has no hash (16 bytes, as generated).
const STAND_IN_SALT: &[u8; 16] = b"chinwag-no-such!";

/// Runs verifications on the blocking pool, at most `slots` at once.
#[derive(Debug)]
pub(crate) struct Verifier {
    slots: Arc<Semaphore>,
}

impl Verifier {
    /// A verifier running at most `slots` verifications at once.
    pub(crate) fn new(slots: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(slots.max(1))),
        }
    }

    /// Checks `password` against `hash` on the blocking pool. Without a hash (an unknown
    /// id) the password is hashed all the same, so the answer takes as long.
    pub(crate) async fn verify(&self, hash: Option<&StoredHash>, password: &str) -> Verdict {
        let Ok(Ok(permit)) =
            tokio::time::timeout(SLOT_WAIT, self.slots.clone().acquire_owned()).await
        else {
            return Verdict::Busy;
        };
        let hash = hash.cloned();
        let password = password.to_owned();
        let matched = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            match hash {
                Some(h) => h.matches(&password),
                None => {
                    if let Ok(h) = hasher() {
                        let _ = h.hash_password_with_salt(password.as_bytes(), STAND_IN_SALT);
                    }
                    false
                }
            }
        })
        .await
        .unwrap_or(false);
        if matched {
            Verdict::Match
        } else {
            Verdict::NoMatch
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_round_trips_with_the_owasp_parameters() -> Result<(), PasswordError> {
        let text = hash_password("correct horse")?;
        assert!(
            text.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{text}"
        );
        let stored = StoredHash::parse(&text)?;
        assert!(stored.matches("correct horse"));
        assert!(!stored.matches("correct horsf"));
        Ok(())
    }

    #[test]
    fn short_long_and_foreign_are_refused() {
        assert_eq!(hash_password("1234567"), Err(PasswordError::TooShort));
        assert_eq!(
            check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(PasswordError::TooLong)
        );
        for bad in [
            "",
            "plain",
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo",
            "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo",
        ] {
            assert!(
                matches!(StoredHash::parse(bad), Err(PasswordError::BadHash(_))),
                "{bad}"
            );
        }
    }
}
