//! ServerStatusManager and TrafficReviseFilter of Nacos 1.4.1 (jraft spec §J9): the status is
//! STARTING until the first ServerStatusUpdater run (at boot), then every 5 s UP when the
//! consistency services are available, DOWN otherwise; while not UP, every client request to
//! `/v1/ns/*` gets 503 and requests from peers pass.

use super::Server;
use crate::trace::{emit, Ev, ServerState};
use crate::wire::{Request, Response, UserAgent};
use std::sync::Arc;

/// §J9.1, §J9.4: available = Distro available (always, without data warm-up) ∧ persistent
/// available: always before the switch (legacy), `hasLeader ∧ ¬hasError` after it.
pub fn available(switched: bool, has_leader: bool, has_error: bool) -> bool {
    !switched || (has_leader && !has_error)
}

/// §J9.6: the 503 body for a status that is not UP.
pub fn refusal(status: ServerState) -> String {
    format!("server is {status} now, please try again later!")
}

impl Server {
    /// ServerStatusUpdater: first run at boot, then every 5 s (§J9.1).
    pub(crate) fn start_status_updater(self: &Arc<Self>) {
        self.update_status();
        let server = self.clone();
        tokio::spawn(async move {
            let period = server.ctx.cfg.server_status_period;
            loop {
                server.ctx.net.sleep(period).await;
                server.update_status();
            }
        });
    }

    fn update_status(&self) {
        let switched = self.jraft_active();
        let (has_leader, has_error) = self
            .jraft
            .lock()
            .unwrap()
            .as_ref()
            .map_or((false, false), |n| (n.has_leader, n.has_error));
        let new = if available(switched, has_leader, has_error) {
            ServerState::Up
        } else {
            ServerState::Down
        };
        let old = std::mem::replace(&mut *self.status.lock().unwrap(), new);
        // The boot transition STARTING → UP is not logged (every boot has it).
        if old != new && old != ServerState::Starting {
            emit(self.name(), Ev::ServerStatus { from: old, to: new });
        }
    }

    /// TrafficReviseFilter (§J9.6): a client request while the status is not UP.
    pub(crate) fn traffic_revise(&self, req: &Request) -> Option<Response> {
        if req.ua == UserAgent::Server {
            return None;
        }
        let status = *self.status.lock().unwrap();
        (status != ServerState::Up).then(|| Response::error(503, refusal(status)))
    }

    /// A fault of the testbed: the node's JRaft state machine reports an error (as a snapshot
    /// write failing with EIO does, #7735); `hasError` latches until a restart (§J9.3).
    pub fn fail_state_machine(&self) {
        if let Some(n) = self.jraft.lock().unwrap().as_mut() {
            n.has_error = true;
        }
    }

    /// The server's status now.
    pub fn status(&self) -> ServerState {
        *self.status.lock().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_only_after_the_switch_without_a_leader_ever_or_with_an_error() {
        // §J9.4: before the switch legacy Raft is always available.
        assert!(available(false, false, false));
        assert!(available(false, false, true));
        // After it: a latched leader keeps the server UP (a lost leader, a minority, a lone
        // survivor), an error or a leader never seen since boot makes it DOWN.
        assert!(available(true, true, false));
        assert!(!available(true, false, false));
        assert!(!available(true, true, true));
    }

    #[test]
    fn the_503_bodies_are_nacos_1_4_1s() {
        // §J9.6 (the 1.4.2 body differs)
        assert_eq!(
            refusal(ServerState::Down),
            "server is DOWN now, please try again later!"
        );
        assert_eq!(
            refusal(ServerState::Starting),
            "server is STARTING now, please try again later!"
        );
    }
}
