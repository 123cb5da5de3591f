//! The customhttp provider: POST the JSON body to the configured URL, with (beyond GMS) an
//! optional signature: `X-Chinwag-Timestamp: <unix seconds>` and
//! `X-Chinwag-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`.

use crate::config::CustomHttpConfig;
use crate::outcome::{self, Outcome};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header with the signing time.
pub const TIMESTAMP_HEADER: &str = "x-chinwag-timestamp";
/// Header with the signature.
pub const SIGNATURE_HEADER: &str = "x-chinwag-signature";

/// `sha256=<hex>` of `"{timestamp}.{body}"` under `secret`.
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Sends one body.
pub async fn send(client: &reqwest::Client, channel: &CustomHttpConfig, bytes: Vec<u8>) -> Outcome {
    let mut req = client
        .post(&channel.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(secret) = &channel.hmac_secret {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .to_string();
        req = req
            .header(SIGNATURE_HEADER, signature(secret, &ts, &bytes))
            .header(TIMESTAMP_HEADER, ts);
    }
    match req.body(bytes).send().await {
        Ok(resp) => {
            let after = outcome::retry_after_of(&resp);
            outcome::from_status(resp.status().as_u16(), after)
        }
        Err(e) => Outcome::Retry {
            reason: e.to_string(),
            after: None,
        },
    }
}
