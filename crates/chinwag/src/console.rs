//! The agent console's sign-in, built from the configuration: the password hashes of
//! `[[agents]]`, whether the demo account may sign in without one, and the proxies whose
//! `X-Forwarded-Proto` says a request came over https.

use crate::config::{self, Config};
use chinwag_agent_api::console::{Console, ConsoleSettings, StoredHash};
use chinwag_core::ids::AgentId;
use chinwag_http::TrustedProxies;

/// Most password checks at once: one per CPU, at most 4 (each holds about 19 MiB).
fn max_verifications() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// The console of a server configured with `cfg`.
pub(crate) fn build(
    cfg: &Config,
    passwords: Vec<(AgentId, StoredHash)>,
    trusted: &TrustedProxies,
) -> Console {
    // Demo sign-in: while the demo site is served (`[web] demo`) and the built-in demo
    // account exists (no `[[agents]]` configured).
    let demo_sign_in = cfg.web.demo_on(&cfg.agents) && config::uses_demo_agent(&cfg.agents);
    Console::new(ConsoleSettings {
        passwords,
        demo: demo_sign_in.then(|| AgentId::new(config::DEMO_ID)),
        trusted: trusted.clone(),
        max_verifications: max_verifications(),
    })
}
