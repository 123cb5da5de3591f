//! The CometD `secureKey`: one opaque token that names the chat and carries its secret,
//! sealed with authenticated encryption under a server key.
//!
//! GMS deprecated `chatId`, `userId` and `alias` on CometD, so a CometD client presents only
//! its `secureKey`; pushes carry it too. It holds the service, the chat id and the chat's
//! REST secure key, encrypted and authenticated with AES-256-GCM-SIV, so any node holding
//! the server key resolves it without a lookup table, while someone who sees it (in a push,
//! a log) learns nothing and cannot forge or alter one.
//!
//! Sealing is deterministic (a fixed nonce): GCM-SIV is built for that — a repeated nonce
//! reveals only that two plaintexts are equal — and every plaintext names its own chat, so a
//! chat keeps one key (clients and logs can tell its notifications apart) and no random
//! source is needed.
//!
//! Wire form (URL-safe base64, no padding): version `3`, key id, then the sealed payload
//! with its 16-byte tag; the version and key id are authenticated too. Key ids are the first
//! byte of the key's SHA-256, so several keys (the current one first, older ones after) can
//! be held during a rotation.

use aws_lc_rs::aead::{AES_256_GCM_SIV, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chinwag_core::ids::{ChatId, SecureKey, ServiceName};

const VERSION: u8 = 3;
/// The nonce of every seal (see the module header).
const NONCE: [u8; NONCE_LEN] = [0; NONCE_LEN];
/// Length of a server key in bytes.
pub const KEY_LEN: usize = 32;

/// What a CometD key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CometKey {
    /// The service the chat belongs to.
    pub service: ServiceName,
    /// The chat.
    pub chat_id: ChatId,
    /// The chat's secret (its REST `secureKey`).
    pub secret: SecureKey,
}

impl CometKey {
    /// The key naming a chat.
    pub fn new(service: &ServiceName, chat_id: &ChatId, secret: &SecureKey) -> Self {
        Self {
            service: service.clone(),
            chat_id: chat_id.clone(),
            secret: secret.clone(),
        }
    }
}

/// Why a set of server keys was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysError {
    /// No key at all.
    Empty,
    /// Two keys share an id (one is a copy, or a 1-in-256 accident: generate another).
    DuplicateId(usize),
    /// The crypto library refused a key.
    Rejected,
}

impl std::fmt::Display for KeysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("no CometD key"),
            Self::DuplicateId(i) => write!(f, "CometD key #{} has the same id as another", i + 1),
            Self::Rejected => f.write_str("a CometD key was refused by the crypto library"),
        }
    }
}

impl std::error::Error for KeysError {}

/// The server keys: the first seals, all open.
pub struct CometKeys {
    keys: Vec<(u8, LessSafeKey)>,
}

impl std::fmt::Debug for CometKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CometKeys")
            .field(
                "ids",
                &self.keys.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The id of a key: the first byte of its SHA-256.
fn key_id(secret: &[u8; KEY_LEN]) -> u8 {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret).as_ref()[0]
}

impl CometKeys {
    /// From raw keys, the current one first.
    pub fn new(secrets: &[[u8; KEY_LEN]]) -> Result<Self, KeysError> {
        if secrets.is_empty() {
            return Err(KeysError::Empty);
        }
        let mut keys: Vec<(u8, LessSafeKey)> = Vec::with_capacity(secrets.len());
        for (i, s) in secrets.iter().enumerate() {
            let id = key_id(s);
            if keys.iter().any(|(k, _)| *k == id) {
                return Err(KeysError::DuplicateId(i));
            }
            let key = UnboundKey::new(&AES_256_GCM_SIV, s).map_err(|_| KeysError::Rejected)?;
            keys.push((id, LessSafeKey::new(key)));
        }
        Ok(Self { keys })
    }

    /// A fresh random key (for a new key file).
    pub fn generate() -> Result<[u8; KEY_LEN], KeysError> {
        let mut k = [0u8; KEY_LEN];
        aws_lc_rs::rand::fill(&mut k).map_err(|_| KeysError::Rejected)?;
        Ok(k)
    }

    /// The wire form of `key`, sealed with the current server key; `None` only for a key
    /// that cannot be one (a chat id or secret over 255 bytes).
    pub fn seal(&self, key: &CometKey) -> Option<String> {
        let (id, sealer) = &self.keys[0];
        let mut payload = Vec::with_capacity(64 + key.service.as_str().len());
        for part in [key.chat_id.as_str(), key.secret.as_str()] {
            payload.push(u8::try_from(part.len()).ok()?);
            payload.extend_from_slice(part.as_bytes());
        }
        payload.extend_from_slice(key.service.as_str().as_bytes());
        sealer
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(NONCE),
                Aad::from([VERSION, *id]),
                &mut payload,
            )
            .ok()?;
        let mut raw = Vec::with_capacity(2 + payload.len());
        raw.extend_from_slice(&[VERSION, *id]);
        raw.extend_from_slice(&payload);
        Some(URL_SAFE_NO_PAD.encode(raw))
    }

    /// What a wire key names; `None` for anything not sealed by one of our keys (a REST
    /// key, a key of another deployment, a forged or altered one).
    pub fn open(&self, wire: &str) -> Option<CometKey> {
        let wire = wire.trim();
        if wire.len() > 1024 {
            return None;
        }
        let mut raw = URL_SAFE_NO_PAD.decode(wire).ok()?;
        if raw.len() < 2 || raw[0] != VERSION {
            return None;
        }
        let id = raw[1];
        let (_, opener) = self.keys.iter().find(|(k, _)| *k == id)?;
        let payload = opener
            .open_in_place(
                Nonce::assume_unique_for_key(NONCE),
                Aad::from([VERSION, id]),
                &mut raw[2..],
            )
            .ok()?;
        parse(payload)
    }
}

fn parse(mut rest: &[u8]) -> Option<CometKey> {
    let mut parts = [String::new(), String::new()];
    for part in &mut parts {
        let (&len, tail) = rest.split_first()?;
        let len = usize::from(len);
        if tail.len() < len || len == 0 {
            return None;
        }
        *part = String::from_utf8(tail[..len].to_vec()).ok()?;
        rest = &tail[len..];
    }
    let service = String::from_utf8(rest.to_vec()).ok()?;
    if service.is_empty() {
        return None;
    }
    let [chat, secret] = parts;
    Some(CometKey {
        service: ServiceName::new(service),
        chat_id: ChatId::new(chat),
        secret: SecureKey::new(secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CometKey {
        CometKey::new(
            &ServiceName::new("customer-support"),
            &ChatId::new("00048aAPEQJ8000U"),
            &SecureKey::new("8b31761b2154884c8b31761b2154884c"),
        )
    }

    fn keys(secrets: &[[u8; KEY_LEN]]) -> CometKeys {
        CometKeys::new(secrets).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn sealed_keys_open_and_reveal_nothing() {
        let k = keys(&[[7; KEY_LEN]]);
        let wire = k.seal(&sample()).unwrap_or_default();
        assert_eq!(k.open(&wire), Some(sample()));
        assert!(!wire.contains("00048aAPEQJ8000U"));
        let raw = URL_SAFE_NO_PAD.decode(&wire).unwrap_or_default();
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains("8b31761b"), "the secret is not readable");
        assert_eq!(k.seal(&sample()), Some(wire.clone()), "one chat, one key");
        let mut other = sample();
        other.secret = SecureKey::new("8b31761b2154884c8b31761b2154884d");
        let other = k.seal(&other).unwrap_or_default();
        assert_ne!(other, wire);
        assert_eq!(
            other.len(),
            wire.len(),
            "keys of the same shape are the same length"
        );
    }

    #[test]
    fn altered_foreign_and_malformed_keys_do_not_open() {
        let k = keys(&[[7; KEY_LEN]]);
        let wire = k.seal(&sample()).unwrap_or_default();
        let mut raw = URL_SAFE_NO_PAD.decode(&wire).unwrap_or_default();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert_eq!(k.open(&URL_SAFE_NO_PAD.encode(&raw)), None, "tag checked");
        let other = keys(&[[8; KEY_LEN]]);
        assert_eq!(other.open(&wire), None, "another deployment's key");
        for bad in ["", "8b31761b2154884c", "AQ", "Ag", &"A".repeat(5000)] {
            assert_eq!(k.open(bad), None, "{bad}");
        }
    }

    #[test]
    fn rotation_keeps_old_keys_readable() {
        let old = keys(&[[1; KEY_LEN]]);
        let wire = old.seal(&sample()).unwrap_or_default();
        let rotated = keys(&[[2; KEY_LEN], [1; KEY_LEN]]);
        assert_eq!(rotated.open(&wire), Some(sample()));
        let new_wire = rotated.seal(&sample()).unwrap_or_default();
        assert_eq!(
            old.open(&new_wire),
            None,
            "new keys are sealed with the new key"
        );
        assert_eq!(
            CometKeys::new(&[[1; KEY_LEN], [1; KEY_LEN]]).err(),
            Some(KeysError::DuplicateId(1))
        );
        assert_eq!(CometKeys::new(&[]).err(), Some(KeysError::Empty));
    }
}
