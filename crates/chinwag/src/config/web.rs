//! `[web]`: which browser parts the binary serves. The customer widget (`/widget/`) always
//! is; the agent console (`/console/`) unless switched off; the demo site (`/`, `/demo/`)
//! when asked for, or with `"auto"` while the built-in demo agent account is in use.

use super::AgentConfig;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// `[web]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct WebConfig {
    /// The demo site: `"auto"`, `true` or `false`.
    pub(crate) demo: DemoSetting,
    /// The agent console.
    pub(crate) console: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            demo: DemoSetting::Auto,
            console: true,
        }
    }
}

/// `web.demo`: `true`, `false`, or `"auto"` (on while no `[[agents]]` are configured).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DemoSetting {
    /// On exactly when the built-in demo agent account is in use.
    Auto,
    /// Always on.
    On,
    /// Always off.
    Off,
}

impl<'de> Deserialize<'de> for DemoSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Expect;
        impl Visitor<'_> for Expect {
            type Value = DemoSetting;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true, false or \"auto\"")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<DemoSetting, E> {
                Ok(if v { DemoSetting::On } else { DemoSetting::Off })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DemoSetting, E> {
                match v {
                    "auto" => Ok(DemoSetting::Auto),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(Expect)
    }
}

/// Whether `agents` is the built-in demo account (the configuration has no `[[agents]]`).
pub(crate) fn uses_demo_agent(agents: &[AgentConfig]) -> bool {
    agents.iter().any(AgentConfig::is_demo)
}

impl WebConfig {
    /// Whether the demo site is served (and so the demo agent's console sign-in).
    pub(crate) fn demo_on(&self, agents: &[AgentConfig]) -> bool {
        match self.demo {
            DemoSetting::Auto => uses_demo_agent(agents),
            DemoSetting::On => true,
            DemoSetting::Off => false,
        }
    }

    /// What `chinwag-web` serves.
    pub(crate) fn served(&self, agents: &[AgentConfig]) -> chinwag_web::Served {
        chinwag_web::Served {
            console: self.console,
            demo: self.demo_on(agents),
        }
    }

    /// Refuses a CometD path inside a served folder (the routes would overlap).
    pub(crate) fn check(
        &self,
        agents: &[AgentConfig],
        cometd_path: Option<&str>,
    ) -> Result<(), String> {
        let Some(path) = cometd_path else {
            return Ok(());
        };
        let served = self.served(agents);
        let folders = [
            ("/widget", true),
            ("/console", served.console),
            ("/demo", served.demo),
        ];
        for (folder, on) in folders {
            let inside = path == folder
                || path
                    .strip_prefix(folder)
                    .is_some_and(|rest| rest.starts_with('/'));
            if on && inside {
                return Err(format!(
                    "cometd.path '{path}' is inside {folder}/, which serves web files: \
                     choose another path (or switch that part off in [web])"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WebConfig, String> {
        #[derive(Deserialize)]
        struct File {
            web: WebConfig,
        }
        toml::from_str::<File>(text)
            .map(|f| f.web)
            .map_err(|e| e.to_string())
    }

    fn agent(id: &str, token: &str) -> AgentConfig {
        AgentConfig {
            id: id.into(),
            token: Some(token.into()),
            ..AgentConfig::default()
        }
    }

    #[test]
    fn demo_auto_follows_the_demo_agent_and_booleans_override_it() -> Result<(), String> {
        let demo_agent = [AgentConfig::demo()];
        let real = [agent("alice", "alice-token-123")];
        let auto = WebConfig::default();
        assert!(auto.demo_on(&demo_agent));
        assert!(!auto.demo_on(&real));
        assert!(!auto.demo_on(&[agent("demo", "another-token")]));
        assert!(parse("[web]\ndemo = \"auto\"\n")?.demo_on(&demo_agent));
        assert!(parse("[web]\ndemo = true\n")?.demo_on(&real));
        assert!(!parse("[web]\ndemo = false\n")?.demo_on(&demo_agent));
        assert!(parse("[web]\n")?.console);
        assert!(!parse("[web]\nconsole = false\n")?.console);
        Ok(())
    }

    #[test]
    fn bad_values_are_refused_with_what_is_expected() {
        for (text, expected) in [
            (
                "[web]\ndemo = \"yes\"\n",
                "expected true, false or \"auto\"",
            ),
            ("[web]\ndemo = 1\n", "expected true, false or \"auto\""),
            ("[web]\nconsole = \"no\"\n", "expected a boolean"),
            ("[web]\nwidget = false\n", "unknown field"),
        ] {
            let err = parse(text).err().unwrap_or_default();
            assert!(err.contains(expected), "{text:?} gave {err:?}");
        }
    }

    #[test]
    fn a_cometd_path_inside_a_served_folder_is_refused() {
        let web = WebConfig::default();
        let demo_agent = [AgentConfig::demo()];
        for path in ["/widget", "/widget/cometd", "/console/x", "/demo"] {
            assert!(web.check(&demo_agent, Some(path)).is_err(), "{path}");
        }
        for path in ["/genesys/cometd", "/widgets", "/cometd"] {
            assert!(web.check(&demo_agent, Some(path)).is_ok(), "{path}");
        }
        let real = [agent("alice", "alice-token-123")];
        assert!(web.check(&real, Some("/demo")).is_ok(), "demo off");
        let no_console = WebConfig {
            console: false,
            ..WebConfig::default()
        };
        assert!(no_console.check(&demo_agent, Some("/console")).is_ok());
        assert!(web.check(&demo_agent, None).is_ok(), "CometD off");
    }
}
