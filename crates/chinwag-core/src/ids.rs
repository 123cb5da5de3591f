//! Newtype identifiers, and generation of the random ones.
//!
//! Formats follow the GMS wire samples: a 16-character `chatId`, a 16-hex-digit `userId`.
//! The `secureKey` is 32 hex digits (128 bits from the OS generator), longer than the GMS
//! sample because it is the only secret guarding a chat; it is compared in constant time.

use serde::{Deserialize, Serialize};
use std::fmt;
use subtle::ConstantTimeEq;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Shared text (`Arc<str>`): a clone — the router's queue, the cache's entry and the
        /// store's record of one chat all hold its id — copies a pointer, not the text.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(std::sync::Arc<str>);

        impl $name {
            /// Wraps a string received from a client or the store.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into().into())
            }
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value.into())
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.into())
            }
        }

        /// Maps keyed by this id are looked up with a plain `&str` (no allocation): the
        /// id hashes and compares as its text.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Self(String::deserialize(d)?.into()))
            }
        }
    };
}

string_id!(
    /// A chat session id (`chatId` on the wire).
    ChatId
);
string_id!(
    /// The customer's user id inside one chat (`userId` on the wire).
    UserId
);
string_id!(
    /// An agent account id (agent API).
    AgentId
);
string_id!(
    /// A chat service name (the `{service}` path segment).
    ServiceName
);
string_id!(
    /// A routing queue name.
    QueueName
);

/// The per-chat secret (`secureKey` on the wire): the one a chat holds, and the one a
/// customer offers, parsed once by the adapter. Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecureKey(String);

impl SecureKey {
    /// Wraps a key received from a client or the store.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The key as text, for the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Constant-time comparison with a presented key.
    pub fn matches(&self, presented: &SecureKey) -> bool {
        self.0.as_bytes().ct_eq(presented.0.as_bytes()).into()
    }
}

impl fmt::Debug for SecureKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecureKey(..)")
    }
}

/// A participant's number inside one chat (`participantId`); 1 is the customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParticipantId(pub u32);

/// A transcript position (`index`); the first event of a chat has index 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventIndex(pub u64);

/// This node's numeric id: the GMS `alias` and the health endpoint's `app_dbid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeAlias(pub u32);

impl fmt::Display for NodeAlias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Fills `buf` from the operating system's secure generator.
fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)?;
    Ok(buf)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// An uploaded file's id (`file-id` on the wire): 32 uppercase hex digits, 128 bits from the
/// OS generator, so it cannot be guessed; a blob store binds it to its chat as well.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BlobId(String);

impl BlobId {
    /// The length of an id, in hex digits.
    pub const LEN: usize = 32;

    /// A new random id.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let raw: [u8; 16] = random_bytes()?;
        Ok(Self(hex(&raw)))
    }
    /// An id a client or a store gave, if well-formed (32 hex digits, any case); only a
    /// well-formed id ever reaches a store, so it is safe in a path or a key.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == Self::LEN && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(text.to_ascii_uppercase()))
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Fresh random identifiers for a new chat.
#[derive(Debug)]
pub struct FreshIds {
    /// New chat id: 16 characters of `[0-9A-Za-z]`.
    pub chat_id: ChatId,
    /// New user id: 16 hex digits.
    pub user_id: UserId,
    /// New secure key: 32 lowercase hex digits (128 bits).
    pub secure_key: SecureKey,
}

impl FreshIds {
    /// Draws new identifiers from the OS generator.
    pub fn generate() -> Result<Self, getrandom::Error> {
        const ALPHABET: &[u8; 62] =
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let raw: [u8; 16] = random_bytes()?;
        // 256 is not a multiple of 62; the slight bias is harmless for an id that is not a secret.
        let chat: String = raw
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect();
        let user: [u8; 8] = random_bytes()?;
        let key: [u8; 16] = random_bytes()?;
        Ok(Self {
            chat_id: ChatId::new(chat),
            user_id: UserId::new(hex(&user)),
            secure_key: SecureKey(hex(&key).to_ascii_lowercase()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_have_wire_formats_and_differ() -> Result<(), getrandom::Error> {
        let a = FreshIds::generate()?;
        let b = FreshIds::generate()?;
        assert_eq!(a.chat_id.as_str().len(), 16);
        assert!(
            a.chat_id
                .as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        );
        assert_eq!(a.user_id.as_str().len(), 16);
        assert!(a.user_id.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.secure_key.as_str().len(), 32);
        assert_ne!(a.secure_key, b.secure_key);
        assert_ne!(a.chat_id, b.chat_id);
        Ok(())
    }

    #[test]
    fn blob_ids_are_random_and_parse_only_hex() -> Result<(), getrandom::Error> {
        let a = BlobId::generate()?;
        assert_ne!(a, BlobId::generate()?);
        assert_eq!(BlobId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(BlobId::parse(&a.as_str().to_ascii_lowercase()), Some(a));
        for bad in [
            "",
            "../../etc/passwd",
            &"G".repeat(32),
            &"A".repeat(31),
            &"A".repeat(33),
        ] {
            assert_eq!(BlobId::parse(bad), None, "{bad:?}");
        }
        Ok(())
    }

    #[test]
    fn secure_key_matches_only_itself() {
        let k = SecureKey::new("abcdef");
        let offered = |s: &str| SecureKey::new(s);
        assert!(k.matches(&offered("abcdef")));
        assert!(!k.matches(&offered("abcdeg")));
        assert!(!k.matches(&offered("abcde")));
        assert!(!k.matches(&offered("")));
        assert_eq!(format!("{k:?}"), "SecureKey(..)");
    }
}
