//! The JRaft timing constants as Nacos 1.4.1 sets them (spec §J4.3), in milliseconds.

use crate::config::Config;

/// Every duration the core uses. `Timing::default()` is Nacos 1.4.1's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// spec §J4.3: election timeout, 5000 (Nacos takes max(configured, 5000)).
    pub election_timeout: u64,
    /// spec §J4.3: the random extra on each arming of the election and vote timers is
    /// uniform in [0, max_election_delay), 1000.
    pub max_election_delay: u64,
    /// spec §J4.3: the replicator heartbeat period, election timeout / 10 = 500.
    pub heartbeat: u64,
    /// spec §J4.3: the leader lease is this share of the election timeout (0.9 → 4500).
    pub lease_ratio: f64,
    /// spec §J4.3: timeout of the JRaft RPCs that use the default (AppendEntries with entries,
    /// probes, a forwarded read-index request), 5000.
    pub rpc_timeout: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            election_timeout: 5000,
            max_election_delay: 1000,
            heartbeat: 500,
            lease_ratio: 0.9,
            rpc_timeout: 5000,
        }
    }
}

impl Timing {
    /// The JRaft keys of the simulator's config (spec §J13.6).
    pub fn from_config(c: &Config) -> Timing {
        Timing {
            election_timeout: c.jraft_election_timeout.as_millis() as u64,
            max_election_delay: c.jraft_max_election_delay.as_millis() as u64,
            heartbeat: c.jraft_heartbeat.as_millis() as u64,
            lease_ratio: c.jraft_lease_ratio,
            rpc_timeout: c.jraft_rpc_timeout.as_millis() as u64,
        }
    }

    /// spec §J5.5: a leader counts a peer alive if it acknowledged an RPC sent within the
    /// last `leader_lease` ms (`NodeOptions.getLeaderLeaseTimeoutMs`, 4500).
    pub fn leader_lease(&self) -> u64 {
        (self.election_timeout as f64 * self.lease_ratio).round() as u64
    }

    /// spec §J5.5: the step-down timer period, election timeout / 2 = 2500.
    pub fn step_down_period(&self) -> u64 {
        self.election_timeout / 2
    }

    /// A heartbeat RPC times out after election timeout / 2 = 2500 (`Replicator`
    /// `sendEmptyEntries(true)`); a read-index heartbeat round uses the same timeout.
    pub fn heartbeat_rpc_timeout(&self) -> u64 {
        self.election_timeout / 2
    }
}
