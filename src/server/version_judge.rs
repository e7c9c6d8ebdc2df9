//! ClusterVersionJudgement of Nacos 1.4.1 (jraft spec §J1–§J2): from 5 s after boot and every
//! 5 s, a server that knows every member to run ≥ 1.4.0 switches its persistent keys from
//! legacy Raft to JRaft, once for the life of the process. A member's version is known only
//! from a member report it sent to this server (§J1.4); a standalone server switches at its
//! first run without judging (§J1.2). A server below 1.4.0 has no judgement at all (§J11.1).

use super::Server;
use crate::model::version;
use crate::trace::{emit, Ev};
use std::sync::Arc;

/// What the judgement knows and decided.
#[derive(Debug, Default)]
pub struct Judgement {
    /// The flag of §J1.5: set once, never cleared while the process lives.
    pub switched: bool,
}

impl Server {
    pub(crate) fn start_version_judgement(self: &Arc<Self>) {
        if !version::supports_jraft(Some(&self.version)) {
            return;
        }
        let server = self.clone();
        tokio::spawn(async move {
            let period = server.ctx.cfg.version_judge_period;
            loop {
                // §J1.1: a one-shot timer re-armed after each run: a 5 s grid, no catch-up.
                server.ctx.net.sleep(period).await;
                if server.judge() {
                    server.switch_to_jraft();
                    return;
                }
            }
        });
    }

    /// §J1.2, §J1.3: every member of `allMembers()` (DOWN ones included, self included) must
    /// be known to run ≥ 1.4.0.
    fn judge(&self) -> bool {
        if self.standalone() {
            return true;
        }
        let m = self.members.lock().unwrap();
        let others = m.others();
        version::all_new(
            std::iter::once(Some(self.version.as_str()))
                .chain(others.iter().map(|a| m.version(*a))),
        )
    }

    /// §J2: the observers run in priority order; in the simulator at once. Legacy RaftCore
    /// stops (its timers end, its `/raft/*` handlers answer 500), the persistent delegate
    /// routes to JRaft, and the data legacy Raft wrote stays where it is (§J2.5).
    fn switch_to_jraft(self: &Arc<Self>) {
        self.judgement.lock().unwrap().switched = true;
        self.raft.lock().unwrap().stopped = true;
        emit(self.name(), Ev::ProtocolSwitched { to: "jraft" });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_restarted_process_starts_unswitched() {
        // §J1.5: the flag lives in memory only.
        assert!(!super::Judgement::default().switched);
    }
}
