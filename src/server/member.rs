//! ServerMemberManager: cluster membership by round-robin reports (spec §4).

use super::Server;
use crate::io::NetError;
use crate::trace::Ev;
use crate::wire::{Api, Request, Response};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// A member's state as this node sees it (a node never changes its own state); the type is
/// the event vocabulary's, so `member.state` events carry it as it is.
pub use crate::trace::NodeState;

/// How one report to a peer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportResult {
    Ok,
    Refused,
    Failed,
}

/// spec §4 step 3: success → UP with the count reset; a failure increments the count and makes
/// the peer SUSPICIOUS, or DOWN once the count is greater than the limit or at once when the
/// connection was refused.
pub fn after_report(
    state: NodeState,
    fails: u64,
    result: ReportResult,
    limit: u64,
) -> (NodeState, u64) {
    let _ = state;
    match result {
        ReportResult::Ok => (NodeState::Up, 0),
        ReportResult::Refused => (NodeState::Down, fails + 1),
        ReportResult::Failed if fails + 1 > limit => (NodeState::Down, fails + 1),
        ReportResult::Failed => (NodeState::Suspicious, fails + 1),
    }
}

/// spec §4 step 4 (corrected): a report received from a peer makes it UP but keeps its failure
/// count: `MemberUtil.copy` does not copy the count, and only our own successful report
/// (`after_report`) clears it. A peer that was DOWN (count > limit) therefore goes DOWN again at
/// the next failed report, so under one-way failure it flaps UP↔DOWN every cycle (§16.7).
pub fn after_report_received(state: NodeState, fails: u64) -> (NodeState, u64) {
    let _ = state;
    (NodeState::Up, fails)
}

/// Membership table: every configured member (including self) → (state, failure count).
pub struct Members {
    pub local: SocketAddr,
    table: BTreeMap<SocketAddr, (NodeState, u64)>,
    /// The members in the order of Nacos's member map: sorted as address strings (§5).
    order: Vec<SocketAddr>,
    cursor: usize,
    /// Each peer's Nacos version, known once it has reported to this server; kept when it
    /// goes DOWN or crashes (jraft spec §J1.4, §J1.6).
    versions: BTreeMap<SocketAddr, String>,
}

impl Members {
    /// spec §4 step 1: every member of cluster.conf starts UP, and a node whose list lacks its
    /// own address adds it.
    pub fn new(local: SocketAddr, members: &[SocketAddr]) -> Self {
        let mut table: BTreeMap<_, _> = members.iter().map(|m| (*m, (NodeState::Up, 0))).collect();
        table.insert(local, (NodeState::Up, 0));
        let mut order: Vec<SocketAddr> = table.keys().copied().collect();
        super::distro::sort_as_strings(&mut order);
        Members {
            local,
            table,
            order,
            cursor: 0,
            versions: BTreeMap::new(),
        }
    }

    /// The other members, sorted as address strings.
    pub fn others(&self) -> Vec<SocketAddr> {
        self.order
            .iter()
            .filter(|a| **a != self.local)
            .copied()
            .collect()
    }

    /// `hasMember(address)`: a member's address equals `addr`, or contains it (Nacos's fuzzy
    /// match for a bare IP; spec §7 step 2).
    pub fn has_member(&self, addr: &str) -> bool {
        self.order.iter().any(|a| a.to_string().contains(addr))
    }

    /// The next report target, round-robin over the other members.
    pub fn next_target(&mut self) -> Option<SocketAddr> {
        let others = self.others();
        if others.is_empty() {
            return None;
        }
        self.cursor = (self.cursor + 1) % others.len();
        Some(others[self.cursor])
    }

    /// The version a peer reported, if it ever reported since this server booted.
    pub fn version(&self, a: SocketAddr) -> Option<&str> {
        self.versions.get(&a).map(|v| v.as_str())
    }

    pub fn state(&self, a: SocketAddr) -> Option<NodeState> {
        self.table.get(&a).map(|s| s.0)
    }

    /// Sets a peer's state and count; returns the old state when the state changed.
    fn set(&mut self, a: SocketAddr, st: NodeState, fails: u64) -> Option<NodeState> {
        if a == self.local {
            return None;
        }
        let e = self.table.entry(a).or_insert((NodeState::Up, 0));
        let old = e.0;
        *e = (st, fails);
        (old != st).then_some(old)
    }

    /// The DistroMapper's healthy list: UP or SUSPICIOUS members, sorted (§5).
    pub fn healthy(&self) -> Vec<SocketAddr> {
        self.table
            .iter()
            .filter(|(_, s)| s.0 != NodeState::Down)
            .map(|(a, _)| *a)
            .collect()
    }
}

impl Server {
    /// `POST /core/cluster/report` received: the sender is UP, its failure count kept (§4 step 4).
    pub(crate) fn on_member_report(
        self: &Arc<Self>,
        from: SocketAddr,
        version: String,
    ) -> Response {
        {
            // The receiver copies the sender's metadata, its version included (§J1.4); a
            // report from an address outside the member list changes nothing.
            let mut m = self.members.lock().unwrap();
            if m.table.contains_key(&from) && from != m.local {
                m.versions.insert(from, version);
            }
        }
        self.member_state_changed(from, after_report_received);
        Response::ok()
    }

    /// Applies a state transition to a peer and, on a change, rebuilds the DistroMapper.
    fn member_state_changed(
        self: &Arc<Self>,
        peer: SocketAddr,
        f: impl FnOnce(NodeState, u64) -> (NodeState, u64),
    ) {
        let (changed, healthy) = {
            let mut m = self.members.lock().unwrap();
            let Some(&(st, fails)) = m.table.get(&peer) else {
                return; // not a configured member
            };
            let (nst, nfails) = f(st, fails);
            (m.set(peer, nst, nfails).map(|old| (old, nst)), m.healthy())
        };
        if let Some((old, new)) = changed {
            crate::trace::emit(
                self.name(),
                Ev::MemberState {
                    peer,
                    from: old,
                    to: new,
                },
            );
            self.mapper.set_healthy(healthy);
        }
    }

    /// MemberInfoReportTask: first run 5 s after boot, then 2 s after each run ends. A run
    /// only issues the report: Nacos posts it with an async HTTP client and judges the peer in
    /// the callback, so a peer that times out is still probed every 2(N-1) s and is DOWN after
    /// about 8(N-1) s (§4 step 6), not after four full timeouts.
    pub(crate) fn start_member_reports(self: &Arc<Self>) {
        let server = self.clone();
        tokio::spawn(async move {
            let cfg = server.ctx.cfg.clone();
            server.ctx.net.sleep(cfg.member_report_initial).await;
            loop {
                let target = server.members.lock().unwrap().next_target();
                if let Some(target) = target {
                    let s = server.clone();
                    tokio::spawn(async move {
                        let req = Request::server(Api::ClusterReport {
                            version: s.version.clone(),
                        });
                        let c = &s.ctx.cfg;
                        // spec §3: member report HTTP connect 5000 / read 2500
                        let res = s
                            .ctx
                            .net
                            .call(
                                target,
                                req,
                                c.server_connect_timeout,
                                c.member_report_read_timeout,
                            )
                            .await;
                        let result = match res {
                            Ok(r) if r.is_success() => ReportResult::Ok,
                            Err(NetError::Refused) => ReportResult::Refused,
                            _ => ReportResult::Failed,
                        };
                        let limit = c.member_fail_limit;
                        s.member_state_changed(target, |st, fails| {
                            after_report(st, fails, result, limit)
                        });
                    });
                }
                server.ctx.net.sleep(cfg.member_report_period).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspicious_after_one_failure_down_after_more_than_three_or_at_once_when_refused() {
        // spec §4 step 3
        let mut s = (NodeState::Up, 0);
        let mut seen = vec![];
        for _ in 0..4 {
            s = after_report(s.0, s.1, ReportResult::Failed, 3);
            seen.push(s.0);
        }
        assert_eq!(
            seen,
            vec![
                NodeState::Suspicious,
                NodeState::Suspicious,
                NodeState::Suspicious,
                NodeState::Down
            ]
        );
        assert_eq!(
            after_report(NodeState::Up, 0, ReportResult::Refused, 3).0,
            NodeState::Down
        );
        assert_eq!(
            after_report(NodeState::Down, 7, ReportResult::Ok, 3),
            (NodeState::Up, 0)
        );
    }

    #[test]
    fn a_received_report_makes_a_peer_up_but_keeps_its_count_so_the_next_failure_is_down() {
        // spec §4 step 4 (corrected) and §16.7: our reports to the peer fail, its reports to
        // us arrive. After the 4th failure it is DOWN; from then on each received report makes
        // it UP and each failed one DOWN again at once, never SUSPICIOUS.
        let mut s = (NodeState::Up, 0);
        let mut seen = vec![];
        for _ in 0..7 {
            s = after_report(s.0, s.1, ReportResult::Failed, 3);
            seen.push(s.0);
            s = after_report_received(s.0, s.1);
            seen.push(s.0);
        }
        use NodeState::{Down as D, Suspicious as S, Up as U};
        assert_eq!(seen, [S, U, S, U, S, U, D, U, D, U, D, U, D, U]);
        assert_eq!(s, (NodeState::Up, 7), "the count is kept");
        // Only our own successful report clears it.
        assert_eq!(
            after_report(s.0, s.1, ReportResult::Ok, 3),
            (NodeState::Up, 0)
        );
        assert_eq!(
            after_report_received(NodeState::Down, 0),
            (NodeState::Up, 0)
        );
    }

    #[test]
    fn round_robin_over_the_others_and_healthy_list_excludes_down() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let (s1, s2, s3) = (a("10.0.0.1:8848"), a("10.0.0.2:8848"), a("10.0.0.3:8848"));
        let mut m = Members::new(s1, &[s1, s2, s3]);
        assert_eq!(m.next_target(), Some(s3));
        assert_eq!(m.next_target(), Some(s2));
        assert_eq!(m.next_target(), Some(s3));
        assert_eq!(m.healthy(), vec![s1, s2, s3]);
        assert_eq!(m.set(s2, NodeState::Down, 4), Some(NodeState::Up));
        assert_eq!(m.healthy(), vec![s1, s3]);
        assert_eq!(
            m.set(s1, NodeState::Down, 1),
            None,
            "a node never changes its own state"
        );
        assert_eq!(m.state(s1), Some(NodeState::Up));
    }

    #[test]
    fn a_node_adds_itself_and_lists_members_as_strings_sort() {
        // spec §4 step 1: a cluster.conf without the node's own address gets it added; §5: the
        // member map is ordered by address string (10.0.0.10 before 10.0.0.2).
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let me = a("10.0.0.2:8848");
        let conf = [a("127.0.0.1:8848"), a("10.0.0.10:8848"), a("10.0.0.9:8848")];
        let m = Members::new(me, &conf);
        assert_eq!(m.state(me), Some(NodeState::Up));
        assert_eq!(m.others(), vec![conf[1], conf[2], conf[0]]);
        // spec §7 step 2: hasMember is exact or a substring of a member's address.
        assert!(m.has_member("10.0.0.9:8848"));
        assert!(m.has_member("127.0.0.1"));
        assert!(!m.has_member("10.0.0.1:8848"), "not inside 10.0.0.10:8848");
        assert!(!m.has_member("10.0.0.3:8848"));
    }
}
