//! The sweeper: a named background worker that ends sessions with no connect for longer
//! than `maxInterval`, and on shutdown answers every held connect with `reconnect: handshake`.

use crate::server::BayeuxServer;
use crate::session::Removal;
use tokio_util::sync::CancellationToken;

/// Ends idle sessions periodically.
#[derive(Debug)]
pub struct SweepWorker {
    server: BayeuxServer,
}

impl SweepWorker {
    /// The sweeper for `server`.
    pub fn new(server: BayeuxServer) -> Self {
        Self { server }
    }

    /// Worker name for logs.
    pub fn name(&self) -> &'static str {
        "bayeux-sweep"
    }

    /// Runs until cancelled, then closes every session.
    pub async fn run(self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(self.server.config().sweep_period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = tick.tick() => { self.server.sweep(); }
            }
        }
        self.server.close_all();
    }
}

impl BayeuxServer {
    /// Removes every session that holds no connect and has been idle past `maxInterval`
    /// (and forgets browsers left without sessions); returns how many.
    pub fn sweep(&self) -> usize {
        let max = self.inner.config.max_interval;
        let mut n = 0;
        for s in self.inner.registry.all() {
            let idle = {
                let st = s.state();
                st.parked == 0 && st.last_active.elapsed() > max
            };
            if idle {
                self.remove(&s, Removal::Expired);
                n += 1;
            }
        }
        self.inner.registry.prune_browsers();
        n
    }
}
