//! The two built-in protocol extensions: `ack` (reliable, ordered server→client delivery,
//! negotiated at handshake and carried on every connect) and `timesync` (clock offset and
//! lag estimation, answered on handshake and connect).

use serde_json::{Map, Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Whether a handshake asks for acks (`ext.ack: true`).
pub(crate) fn wants_ack(ext: Option<&Map<String, Value>>) -> bool {
    ext.and_then(|e| e.get("ack")) == Some(&Value::Bool(true))
}

/// The batch a connect acknowledges (`ext.ack: n`).
pub(crate) fn acked_batch(ext: Option<&Map<String, Value>>) -> Option<u64> {
    ext.and_then(|e| e.get("ack")).and_then(Value::as_u64)
}

/// A timesync request: the client's clock `tc`, lag `l` and offset `o`, and when it arrived.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timesync {
    tc: i64,
    l: Option<i64>,
    o: i64,
    ts: i64,
}

/// Accuracy below which a client's estimate is not corrected (CometD's default, ms).
const ACCURACY_TARGET: i64 = 25;

impl Timesync {
    /// Reads `ext.timesync` if present.
    pub(crate) fn read(ext: Option<&Map<String, Value>>) -> Option<Self> {
        let t = ext?.get("timesync")?;
        Some(Self {
            tc: t.get("tc")?.as_i64()?,
            l: t.get("l").and_then(Value::as_i64),
            o: t.get("o").and_then(Value::as_i64).unwrap_or(0),
            ts: now_ms(),
        })
    }

    /// The reply: `tc`, `ts`, `p` (time spent in the server) and `a` (the correction) when
    /// the client's estimate is off by at least the accuracy target or it has no lag yet.
    pub(crate) fn answer(&self) -> Value {
        let p = now_ms() - self.ts;
        let mut out = json!({"tc": self.tc, "ts": self.ts, "p": p});
        if let Some(l) = self.l {
            // The client's numbers are any i64: saturate rather than overflow.
            let a = self
                .tc
                .saturating_add(self.o)
                .saturating_add(l)
                .saturating_sub(self.ts);
            if l == 0 || a.saturating_abs() >= ACCURACY_TARGET {
                out["a"] = json!(a);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timesync_answers_with_correction_when_off() {
        let ext = json!({"timesync": {"tc": 1000, "l": 10, "o": 0}});
        let t = Timesync::read(ext.as_object());
        let v = t.map(|t| t.answer()).unwrap_or_default();
        assert_eq!(v["tc"], 1000);
        assert!(v["ts"].as_i64().unwrap_or(0) > 1_600_000_000_000);
        assert!(
            v.get("a").is_some(),
            "a client 50 years behind gets a correction"
        );
        let none = json!({"ack": true});
        assert!(Timesync::read(none.as_object()).is_none());
        assert!(wants_ack(none.as_object()));
        assert_eq!(acked_batch(json!({"ack": 3}).as_object()), Some(3));
    }
}
