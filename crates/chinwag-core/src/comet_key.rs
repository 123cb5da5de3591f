//! The CometD `secureKey`: one opaque token that names the chat and carries its secret.
//!
//! GMS deprecated `chatId`, `userId` and `alias` on CometD, so a CometD client presents only
//! its `secureKey`. Chinwag makes that key self-describing — service, chat id and the chat's
//! REST secure key, base64-encoded — so any node can authorize a CometD operation, or a later
//! HTTP call (file transfer at `/genesys/2/chat-ntf`), without a lookup table. The secret part
//! is still checked against the stored key in constant time by the engine.

use crate::ids::{ChatId, SecureKey, ServiceName};
use base64::Engine;

const VERSION: u8 = 1;

/// What a CometD key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CometKey {
    /// The service the chat belongs to.
    pub service: ServiceName,
    /// The chat.
    pub chat_id: ChatId,
    /// The chat's secret (its REST `secureKey`).
    pub secret: String,
}

impl CometKey {
    /// The key for a chat.
    pub fn new(service: &ServiceName, chat_id: &ChatId, secret: &SecureKey) -> Self {
        Self {
            service: service.clone(),
            chat_id: chat_id.clone(),
            secret: secret.as_str().to_owned(),
        }
    }

    /// The opaque wire form.
    pub fn encode(&self) -> String {
        let mut raw = Vec::with_capacity(3 + self.chat_id.as_str().len() + 64);
        raw.push(VERSION);
        for part in [self.chat_id.as_str(), self.secret.as_str()] {
            raw.push(u8::try_from(part.len()).unwrap_or(u8::MAX));
            raw.extend_from_slice(part.as_bytes());
        }
        raw.extend_from_slice(self.service.as_str().as_bytes());
        base64::engine::general_purpose::STANDARD.encode(raw)
    }

    /// Reads a wire key; `None` when it is not one of ours (e.g. a plain REST key).
    pub fn decode(wire: &str) -> Option<Self> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(wire.trim())
            .ok()?;
        let (&version, mut rest) = raw.split_first()?;
        if version != VERSION {
            return None;
        }
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
        Some(Self {
            service: ServiceName::new(service),
            chat_id: ChatId::new(chat),
            secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_foreign_keys() {
        let k = CometKey::new(
            &ServiceName::new("customer-support"),
            &ChatId::new("00048aAPEQJ8000U"),
            &SecureKey::new("8b31761b2154884c8b31761b2154884c"),
        );
        let wire = k.encode();
        assert_eq!(CometKey::decode(&wire), Some(k));
        assert_eq!(CometKey::decode("8b31761b2154884c"), None);
        assert_eq!(CometKey::decode(""), None);
        assert_eq!(CometKey::decode("AQ=="), None);
    }
}
