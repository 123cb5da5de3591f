//! `[presence]` (the not-ready reasons agents pick from) and the canned responses of
//! `[queues.<name>] canned`, checked and turned into the engine's [`DeskSettings`].

use anyhow::ensure;
use chinwag_core::ids::QueueName;
use chinwag_core::settings::{CannedResponse, DEFAULT_NOT_READY_REASONS, DeskSettings};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

/// Most not-ready reasons.
const MAX_REASONS: usize = 32;
/// Longest not-ready reason, in characters.
const MAX_REASON_CHARS: usize = 64;
/// Most canned responses per queue.
const MAX_CANNED: usize = 100;
/// Longest canned response label, in characters.
const MAX_LABEL_CHARS: usize = 64;
/// Longest canned response text, in characters.
const MAX_TEXT_CHARS: usize = 4096;

/// `[presence]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct PresenceConfig {
    /// The reasons an agent may give for not being ready; the first is the default.
    pub(crate) not_ready_reasons: Vec<String>,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self {
            not_ready_reasons: DEFAULT_NOT_READY_REASONS.map(String::from).to_vec(),
        }
    }
}

/// One `[queues.<name>] canned` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CannedConfig {
    /// Short label shown in the picker.
    pub(crate) label: String,
    /// The text it inserts.
    pub(crate) text: String,
}

/// The canned responses the built-in default queue has when there is no configuration file.
pub(crate) fn builtin_canned() -> Vec<CannedConfig> {
    [
        (
            "Greeting",
            "Hello, thank you for contacting us. How can I help you today?",
        ),
        (
            "One moment",
            "Thank you. Please give me a moment while I look into this.",
        ),
        (
            "Anything else",
            "Is there anything else I can help you with?",
        ),
        (
            "Closing",
            "Thank you for chatting with us. Have a nice day!",
        ),
    ]
    .map(|(label, text)| CannedConfig {
        label: label.into(),
        text: text.into(),
    })
    .to_vec()
}

/// Whether `s` has 1..=`max` characters, not all blank, and no control characters.
fn fits(s: &str, max: usize) -> bool {
    let n = s.chars().count();
    (1..=max).contains(&n) && !s.trim().is_empty() && !s.chars().any(char::is_control)
}

/// Checks `[presence]` and every queue's `canned`; the error names the offending entry.
pub(crate) fn settings(
    presence: &PresenceConfig,
    canned: &BTreeMap<String, Vec<CannedConfig>>,
) -> anyhow::Result<DeskSettings> {
    let reasons = &presence.not_ready_reasons;
    ensure!(
        (1..=MAX_REASONS).contains(&reasons.len()),
        "presence.not_ready_reasons must list 1 to {MAX_REASONS} reasons (has {})",
        reasons.len()
    );
    let mut seen = HashSet::new();
    for r in reasons {
        ensure!(
            fits(r, MAX_REASON_CHARS),
            "presence.not_ready_reasons entry {r:?} must be 1 to {MAX_REASON_CHARS} characters, not blank, without control characters"
        );
        ensure!(
            seen.insert(r.as_str()),
            "presence.not_ready_reasons lists {r:?} twice"
        );
        ensure!(
            r != chinwag_core::settings::MISSED_OFFER,
            "presence.not_ready_reasons may not list {r:?}: the server sets it after a missed offer"
        );
    }
    let mut out = Vec::new();
    for (queue, list) in canned {
        ensure!(
            list.len() <= MAX_CANNED,
            "queues.{queue}.canned has {} responses (at most {MAX_CANNED})",
            list.len()
        );
        for (i, c) in list.iter().enumerate() {
            ensure!(
                fits(&c.label, MAX_LABEL_CHARS),
                "queues.{queue}.canned[{i}].label must be 1 to {MAX_LABEL_CHARS} characters, not blank, without control characters"
            );
            let n = c.text.chars().count();
            ensure!(
                (1..=MAX_TEXT_CHARS).contains(&n) && !c.text.trim().is_empty(),
                "queues.{queue}.canned[{i}].text must be 1 to {MAX_TEXT_CHARS} characters, not blank"
            );
        }
        if !list.is_empty() {
            let responses = list
                .iter()
                .map(|c| CannedResponse {
                    label: c.label.clone(),
                    text: c.text.clone(),
                })
                .collect();
            out.push((QueueName::new(queue.as_str()), responses));
        }
    }
    Ok(DeskSettings {
        not_ready_reasons: reasons.clone(),
        canned: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canned(label: &str, text: &str) -> BTreeMap<String, Vec<CannedConfig>> {
        BTreeMap::from([(
            "q".to_owned(),
            vec![CannedConfig {
                label: label.into(),
                text: text.into(),
            }],
        )])
    }

    #[test]
    fn defaults_and_builtin_responses_are_valid() -> anyhow::Result<()> {
        let builtin = BTreeMap::from([("default".to_owned(), builtin_canned())]);
        let d = settings(&PresenceConfig::default(), &builtin)?;
        assert_eq!(d.not_ready_reasons[0], "Break");
        assert_eq!(d.canned_of(&QueueName::new("default")).len(), 4);
        Ok(())
    }

    #[test]
    fn bad_reasons_and_responses_are_refused() {
        let p = |r: &[&str]| PresenceConfig {
            not_ready_reasons: r.iter().map(|s| (*s).to_owned()).collect(),
        };
        let none = BTreeMap::new();
        let long = "x".repeat(65);
        let many: Vec<String> = (0..33).map(|i| format!("r{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        for (presence, expected) in [
            (p(&[]), "1 to 32"),
            (p(&many), "1 to 32 reasons (has 33)"),
            (p(&["Lunch", "Lunch"]), "twice"),
            (p(&[""]), "1 to 64"),
            (p(&[long.as_str()]), "1 to 64"),
            (p(&["a\nb"]), "control"),
            (p(&["Break", "Missed offer"]), "the server sets it"),
        ] {
            let e = settings(&presence, &none).err().map(|e| e.to_string());
            assert!(e.as_deref().is_some_and(|e| e.contains(expected)), "{e:?}");
        }
        let ok = PresenceConfig::default();
        for (c, expected) in [
            (canned("", "x"), "queues.q.canned[0].label"),
            (canned(&"l".repeat(65), "x"), "queues.q.canned[0].label"),
            (canned("l", ""), "queues.q.canned[0].text"),
            (canned("l", &"t".repeat(4097)), "queues.q.canned[0].text"),
        ] {
            let e = settings(&ok, &c).err().map(|e| e.to_string());
            assert!(e.as_deref().is_some_and(|e| e.contains(expected)), "{e:?}");
        }
        let mut too_many = canned("l", "t");
        let one = too_many["q"][0].clone();
        too_many.insert("q".into(), vec![one; 101]);
        assert!(settings(&ok, &too_many).is_err());
        assert!(settings(&ok, &canned(&"l".repeat(64), &"t".repeat(4096))).is_ok());
    }
}
