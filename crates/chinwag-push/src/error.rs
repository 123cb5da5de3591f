//! What can go wrong setting push delivery up (bad keys, a bad service-account file, an
//! HTTP client that cannot be built). Delivery failures are [`crate::outcome::Outcome`]s.

/// A push setup error.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// A FCM service-account JSON file that cannot be used.
    #[error("FCM service account: {0}")]
    ServiceAccount(String),
    /// A private key that cannot be used for signing.
    #[error("{what}: not a usable private key: {why}")]
    Key {
        /// Which key.
        what: String,
        /// Why.
        why: String,
    },
    /// The HTTP client could not be built.
    #[error("push HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Makes jsonwebtoken use aws-lc-rs (the one backend compiled in); harmless when already
/// done.
pub fn init_crypto() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}
