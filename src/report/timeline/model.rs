//! Reads an outcome's event log into the timeline [`Model`]: lanes, shaded intervals, instance
//! bands, marks, anomaly points and check windows. Event order is kept and every map is a
//! `BTreeMap`, so the model (and the picture) is a pure function of the outcome.

use super::findings::{anomaly_points, check_marks, quiet_stretches};
use super::*;
use crate::report::Outcome;
use crate::trace::{Ev, Event, HostList, NodeState, Role, ServerState, Via, WriteResult};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

impl<'a> Builder<'a> {
    pub(super) fn close_role(&mut self, l: usize, t: u64) {
        if let Some(mut s) = self.open_role.remove(&l) {
            s.t1 = t;
            self.lanes[l].roles.push(s);
        }
    }

    pub(super) fn mark(&mut self, e: &Event, row: MarkRow, cat: Cat) {
        if let Some(&l) = self.lane_of.get(&e.node) {
            self.lanes[l].marks.push(Mark {
                t: e.t_us,
                row,
                cat,
                text: e.describe(),
            });
        }
    }

    /// Records one instance's new state on server lane `l` and the band change it makes.
    pub(super) fn set_state(&mut self, l: usize, key: Key, st: u8, t: u64) {
        let Some(&r) = self.row_of.get(&key) else {
            return;
        };
        if st == GONE {
            self.cur[l].remove(&key);
        } else {
            self.cur[l].insert(key.clone(), st);
        }
        let name = &self.lanes[l].name;
        let (code, tip) = if self.per_instance {
            let word = match st {
                HEALTHY => "healthy",
                UNHEALTHY => "unhealthy",
                _ => "not held",
            };
            (
                st,
                format!("{name}: {} {} {word}", short_svc(&key.0), key.1),
            )
        } else {
            let states: Vec<u8> = self.cur[l]
                .iter()
                .filter(|(k, _)| self.row_of.get(*k) == Some(&r))
                .map(|(_, v)| *v)
                .collect();
            let bad = states.iter().filter(|v| **v == UNHEALTHY).count();
            let code = match (states.len(), bad) {
                (0, _) => GONE,
                (_, 0) => HEALTHY,
                _ => UNHEALTHY,
            };
            let n = states.len();
            (
                code,
                format!(
                    "{name}: {} has {n} instances, {bad} unhealthy",
                    short_svc(&key.0)
                ),
            )
        };
        let band = &mut self.lanes[l].health[r];
        if band.last().is_some_and(|(lt, _, _)| *lt == t) {
            band.pop();
        }
        band.push((t, code, tip));
    }

    pub(super) fn drop_all(&mut self, l: usize, t: u64, service: Option<&str>) {
        if l >= self.servers {
            return;
        }
        let held: Vec<Key> = self.cur[l]
            .keys()
            .filter(|k| service.is_none_or(|s| k.0 == s))
            .cloned()
            .collect();
        for k in held {
            self.set_state(l, k, GONE, t);
        }
    }

    /// An instance's new state on a server lane.
    pub(super) fn instance(&mut self, e: &Event, service: &str, instance: &str, st: u8) {
        let Some(&l) = self.lane_of.get(&e.node) else {
            return;
        };
        if l >= self.servers {
            return;
        }
        let key = (service.to_string(), instance.to_string());
        if st == GONE {
            if let Some(&r) = self.row_of.get(&key) {
                let cat = if matches!(e.ev, Ev::InstanceDeleted { .. }) {
                    Cat::Deleted
                } else {
                    Cat::Deregistered
                };
                self.mark(e, MarkRow::Inst(r), cat);
            }
        }
        self.set_state(l, key, st, e.t_us);
    }

    pub(super) fn role(&mut self, l: usize, t: u64, term: u64, role: Role) {
        self.close_role(l, t);
        let role = match role {
            Role::Leader => Some((SpanKind::Leader, format!("leader (elected in term {term})"))),
            Role::Candidate => Some((SpanKind::Candidate, format!("candidate {term}"))),
            Role::Follower => None,
        };
        if let Some((kind, label)) = role {
            self.open_role.insert(l, span(t, kind, label));
        }
    }

    pub(super) fn member(
        &mut self,
        e: &Event,
        l: usize,
        peer: SocketAddr,
        from: NodeState,
        to: NodeState,
    ) {
        let cat = match to {
            NodeState::Down => Cat::MemberDown,
            NodeState::Up => Cat::MemberUp,
            NodeState::Suspicious => Cat::MemberSuspect,
        };
        let peer = peer.to_string();
        let peer = self.by_addr.get(&peer).cloned().unwrap_or(peer);
        let text = format!("{} sees {peer} {to} (was {from})", e.node);
        self.lanes[l].marks.push(Mark {
            t: e.t_us,
            row: MarkRow::Sync,
            cat,
            text,
        });
    }

    pub(super) fn event(&mut self, e: &Event) {
        let me = self.lane_of.get(&e.node).copied();
        let t = e.t_us;
        match &e.ev {
            Ev::FaultCrash { .. }
            | Ev::FaultRestart { .. }
            | Ev::FaultPause { .. }
            | Ev::FaultResume { .. }
            | Ev::FaultIsolate { .. } => self.node_fault(e),
            Ev::FaultPartition { groups } => self.groups(t, groups, None),
            Ev::FaultBridge { via, sides } => self.groups(t, sides, Some(via)),
            Ev::FaultOneWay { from, to } => self.one_way(t, from, to),
            Ev::FaultNoConnect { from, to, mode } => self.no_connect(t, from, to, *mode),
            Ev::FaultDelay { from, to, extra_ms } => self.delay(t, from, to, *extra_ms),
            Ev::FaultBlockPort { port, .. } => self.block_port(e, *port, true),
            Ev::FaultUnblockPort { port, .. } => self.block_port(e, *port, false),
            Ev::FaultHeal {} => self.heal(t),
            Ev::FaultLoss { .. }
            | Ev::FaultLatency { .. }
            | Ev::FaultPortDown { .. }
            | Ev::FaultPortUp { .. } => self.net_fault(e),
            Ev::FaultRing { order } => self.open_net_span(t, format!("majorities ring {order}")),
            Ev::FaultClockSkew { offset_ms, drift } => self.clock_skew(e, *offset_ms, *drift),
            Ev::RaftState { term, role } | Ev::JraftState { term, role, .. } => {
                if let Some(l) = me {
                    self.role(l, t, *term, *role);
                }
            }
            Ev::ProtocolSwitched { .. } => self.mark(e, MarkRow::Sync, Cat::SyncAux),
            Ev::ServerStatus { to, .. } => {
                let cat = if *to == ServerState::Up {
                    Cat::MemberUp
                } else {
                    Cat::MemberDown
                };
                self.mark(e, MarkRow::Sync, cat)
            }
            Ev::JraftWrite { result, .. } => {
                let cat = if *result == WriteResult::Committed {
                    Cat::Publish
                } else {
                    Cat::Fail
                };
                self.mark(e, MarkRow::Sync, cat)
            }
            Ev::InstanceRegistered {
                service, instance, ..
            }
            | Ev::InstanceHealthy {
                service, instance, ..
            } => self.instance(e, service, instance, HEALTHY),
            Ev::InstanceUnhealthy {
                service, instance, ..
            } => self.instance(e, service, instance, UNHEALTHY),
            Ev::InstanceDeleted {
                service, instance, ..
            }
            | Ev::InstanceDeregistered {
                service, instance, ..
            } => self.instance(e, service, instance, GONE),
            Ev::ServiceDeleted { service } => {
                if let Some(l) = me {
                    self.drop_all(l, t, Some(service));
                }
            }
            Ev::DistroSync { result, .. } => {
                let cat = if result.is_ok() { Cat::Sync } else { Cat::Fail };
                self.mark(e, MarkRow::Sync, cat)
            }
            Ev::DistroForward { status, .. } => {
                let cat = if *status == 200 {
                    Cat::SyncAux
                } else {
                    Cat::Fail
                };
                self.mark(e, MarkRow::Sync, cat)
            }
            Ev::DistroVerify { .. } | Ev::DistroLoad { .. } => {
                self.mark(e, MarkRow::Sync, Cat::SyncAux)
            }
            Ev::RaftPublish { result, .. } => {
                let cat = if result.is_ok() {
                    Cat::Publish
                } else {
                    Cat::Fail
                };
                self.mark(e, MarkRow::Sync, cat)
            }
            Ev::RaftDelete { .. } => self.mark(e, MarkRow::Sync, Cat::RaftDelete),
            Ev::RaftFetch { .. } => self.mark(e, MarkRow::Sync, Cat::SyncAux),
            Ev::MemberState { peer, from, to } => {
                if let Some(l) = me {
                    self.member(e, l, *peer, *from, *to);
                }
            }
            Ev::PushSent { .. } => self.mark(e, MarkRow::Push, Cat::PushSent),
            Ev::PushAcked { .. } => self.mark(e, MarkRow::Push, Cat::PushAcked),
            Ev::PushFailed { .. } => self.mark(e, MarkRow::Push, Cat::Fail),
            Ev::ClientCall { result, .. } => {
                let cat = if result.failed() {
                    Cat::Fail
                } else {
                    Cat::Call
                };
                self.mark(e, MarkRow::Client, cat)
            }
            Ev::ClientRequestFailed { .. } => self.mark(e, MarkRow::Client, Cat::Fail),
            Ev::ClientPushReceived { .. } => self.mark(e, MarkRow::Client, Cat::PushRecv),
            Ev::ClientReregister { .. } => self.mark(e, MarkRow::Client, Cat::Rereg),
            Ev::ClientNotified {
                service,
                via,
                hosts,
            } => self.notified(e, service, *via, hosts),
            // Anomalies are drawn from the checkers' findings (`findings`), not their events.
            _ => {}
        }
    }

    /// A client's new view of a subscribed service (one lane per client only).
    pub(super) fn notified(&mut self, e: &Event, service: &str, via: Via, hosts: &HostList) {
        let Some(&l) = self.lane_of.get(&e.node) else {
            return;
        };
        if self.lanes[l].name != e.node {
            return; // a grouped clients lane has no per-client views
        }
        let n = hosts.0.len();
        let s = short_svc(service);
        let text = format!("{} sees {s} = {hosts} (by {via})", e.node);
        let views = &mut self.lanes[l].views;
        let i = match views.iter().position(|(v, _)| v == s) {
            Some(i) => i,
            None => {
                views.push((s.to_string(), vec![]));
                views.len() - 1
            }
        };
        views[i].1.push((e.t_us, n, text));
    }

    pub(super) fn finish(mut self, rows: Vec<String>, hidden_services: usize) -> Model<'a> {
        let end = self.end_us;
        for (node, which) in self.open.keys().cloned().collect::<Vec<_>>() {
            self.close_shade(&node, which, end);
        }
        for l in self.open_role.keys().copied().collect::<Vec<_>>() {
            self.close_role(l, end);
        }
        for (_, mut s) in std::mem::take(&mut self.open_net) {
            s.t1 = end;
            self.net.push(s);
        }
        self.net.sort_by_key(|s| s.t0);
        for l in self.lanes.iter_mut().filter(|l| l.grouped) {
            // Many clients with the same fault at the same time: one shade naming them all.
            let mut merged: BTreeMap<(u64, u64, SpanKind, String), Vec<String>> = BTreeMap::new();
            for s in l.shades.drain(..) {
                merged
                    .entry((s.t0, s.t1, s.kind, s.label))
                    .or_default()
                    .push(s.who);
            }
            for ((t0, t1, kind, label), who) in merged {
                let n = who.len();
                let names = if n > 3 {
                    format!("{n} clients")
                } else {
                    who.join(",")
                };
                l.shades.push(Span {
                    t0,
                    t1,
                    kind,
                    label: format!("{names} {label}"),
                    who: who.join(","),
                });
            }
        }
        for l in self.lanes.iter_mut() {
            l.shades.sort_by_key(|s| s.t0);
            l.roles.sort_by_key(|s| s.t0);
        }
        let anomalies = anomaly_points(self.o, &self.lane_of, end);
        let checks = check_marks(self.o, &self.lane_of, end);
        let gaps = quiet_stretches(self.o, &checks, end);
        Model {
            o: self.o,
            end_us: end,
            lanes: self.lanes,
            servers: self.servers,
            rows,
            hidden_services,
            net: self.net,
            anomalies,
            checks,
            gaps,
        }
    }
}

impl<'a> Model<'a> {
    pub fn new(o: &'a Outcome) -> Model<'a> {
        let end_us = o
            .events
            .iter()
            .map(|e| e.t_us)
            .max()
            .unwrap_or(0)
            .max(o.duration_ms * 1000)
            .max(1);
        // Servers are the nodes that started a server; every other node is a client.
        let mut addr: BTreeMap<String, String> = BTreeMap::new();
        for e in &o.events {
            if let Ev::ServerStarted { addr: a } = e.ev {
                addr.insert(e.node.clone(), a.to_string());
            }
        }
        let mut lanes: Vec<Lane> = vec![];
        let mut lane_of = BTreeMap::new();
        for n in o.node_order.iter().filter(|n| addr.contains_key(*n)) {
            lane_of.insert(n.clone(), lanes.len());
            lanes.push(Lane {
                name: n.clone(),
                addr: addr[n].clone(),
                ..Lane::default()
            });
        }
        let servers = lanes.len();
        let clients: Vec<&String> = o
            .node_order
            .iter()
            .filter(|n| !addr.contains_key(*n))
            .collect();
        let grouped = clients.len() > MAX_CLIENT_LANES;
        if grouped {
            lanes.push(Lane {
                name: format!("{} clients", clients.len()),
                grouped: true,
                ..Lane::default()
            });
        }
        for n in clients {
            lane_of.insert(n.clone(), if grouped { servers } else { lanes.len() });
            if !grouped {
                lanes.push(Lane {
                    name: n.clone(),
                    ..Lane::default()
                });
            }
        }

        // Instance rows: every (service, instance) a server held, or one row per service.
        let mut keys: BTreeSet<Key> = BTreeSet::new();
        for e in &o.events {
            let on_server = lane_of.get(&e.node).is_some_and(|&l| l < servers);
            if let (true, Some((s, i))) = (on_server, instance_of(&e.ev)) {
                keys.insert((s.to_string(), i.to_string()));
            }
        }
        let per_instance = keys.len() <= MAX_INSTANCE_ROWS;
        let mut row_of = BTreeMap::new();
        let mut rows = vec![];
        let mut hidden_services = 0;
        if per_instance {
            for k in keys {
                rows.push(format!("{} {}", short_svc(&k.0), k.1));
                row_of.insert(k, rows.len() - 1);
            }
        } else {
            let svcs: BTreeSet<String> = keys.iter().map(|k| k.0.clone()).collect();
            hidden_services = svcs.len().saturating_sub(MAX_SERVICE_ROWS);
            for s in svcs.into_iter().take(MAX_SERVICE_ROWS) {
                rows.push(short_svc(&s).to_string());
                for k in keys.iter().filter(|k| k.0 == s) {
                    row_of.insert(k.clone(), rows.len() - 1);
                }
            }
        }
        for l in lanes.iter_mut().take(servers) {
            l.health = vec![vec![]; rows.len()];
        }
        let by_addr = addr.iter().map(|(n, a)| (a.clone(), n.clone())).collect();
        let mut b = Builder {
            o,
            end_us,
            lanes,
            servers,
            lane_of,
            by_addr,
            per_instance,
            row_of,
            cur: vec![BTreeMap::new(); servers],
            open: BTreeMap::new(),
            open_role: BTreeMap::new(),
            open_net: BTreeMap::new(),
            cuts: 0,
            net: vec![],
        };
        for e in &o.events {
            b.event(e);
        }
        let mut m = b.finish(rows, hidden_services);
        // A consumer's failed-call rate, on its own lane (not on a grouped one).
        for f in &o.availability {
            let lane = m.lanes.iter_mut().skip(m.servers);
            if let Some(l) = lane.filter(|l| !l.grouped).find(|l| l.name == f.client) {
                l.traffic.push((f.service.clone(), f.buckets.clone()));
            }
        }
        m
    }
}

/// The (service, instance) an `instance.*` event is about.
fn instance_of(ev: &Ev) -> Option<(&str, &str)> {
    match ev {
        Ev::InstanceRegistered {
            service, instance, ..
        }
        | Ev::InstanceDeregistered {
            service, instance, ..
        }
        | Ev::InstanceDeleted {
            service, instance, ..
        }
        | Ev::InstanceHealthy {
            service, instance, ..
        }
        | Ev::InstanceUnhealthy {
            service, instance, ..
        } => Some((service, instance)),
        _ => None,
    }
}
