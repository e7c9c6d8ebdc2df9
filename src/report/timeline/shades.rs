//! Fault shades: crashes, pauses and cuts on the lanes of the nodes they hit, and the network
//! row's spans (partitions, one-way cuts, `no_connect`, link delays, blocked ports, loss,
//! latency, closed instance ports, skewed clocks) from the fault to its undoing.

use super::*;
use crate::trace::{ConnectFail, Ev, Event, FieldValue, Groups, Names};
use std::collections::BTreeSet;

/// `2s`, `1.5s`, `300ms`.
fn secs_ms(ms: u64) -> String {
    crate::config::fmt_duration(std::time::Duration::from_millis(ms))
}

impl Builder<'_> {
    /// Opens a shade on a node's lane (a cut replaces the node's open cut; a second crash or
    /// pause of a node already down or paused changes nothing).
    pub(super) fn open_shade(&mut self, node: &str, l: usize, which: Shade, s: Span) {
        let key = (node.to_string(), which);
        if which == Shade::Cut {
            self.close_shade(node, which, s.t0);
        }
        self.open.entry(key).or_insert((l, s));
    }

    pub(super) fn close_shade(&mut self, node: &str, which: Shade, t: u64) {
        if let Some((l, mut s)) = self.open.remove(&(node.to_string(), which)) {
            s.t1 = t;
            if self.lanes[l].grouped {
                s.who = node.to_string();
            }
            self.lanes[l].shades.push(s);
        }
    }

    pub(super) fn node_fault(&mut self, e: &Event) {
        let t = e.t_us;
        let Some(&l) = self.lane_of.get(&e.node) else {
            return;
        };
        let node = e.node.clone();
        match &e.ev {
            Ev::FaultCrash { .. } => {
                self.open_shade(&node, l, Shade::Down, span(t, SpanKind::Down, "crashed"));
                self.close_role(l, t);
                self.drop_all(l, t, None);
            }
            Ev::FaultRestart { .. } => self.close_shade(&node, Shade::Down, t),
            Ev::FaultPause { .. } => {
                let s = span(t, SpanKind::Paused, "paused");
                self.open_shade(&node, l, Shade::Paused, s)
            }
            Ev::FaultResume { .. } => self.close_shade(&node, Shade::Paused, t),
            _ => {
                let s = span(t, SpanKind::Cut(3), "isolated");
                self.open_shade(&node, l, Shade::Cut, s);
                self.open_net_span(t, format!("{node} isolated"));
            }
        }
    }

    /// A cut in the network row; it lasts until the next heal.
    pub(super) fn open_net_span(&mut self, t: u64, label: String) {
        let slot = format!("cut{:04}", self.cuts);
        self.cuts += 1;
        self.open_net.insert(slot, span(t, SpanKind::Net, label));
    }

    /// The lanes of the named nodes (a role target that named nobody has none).
    pub(super) fn lanes_of<'n>(&self, names: &'n Names) -> Vec<(&'n str, usize)> {
        let set: BTreeSet<(&str, usize)> = names
            .0
            .iter()
            .filter_map(|n| self.lane_of.get(n).map(|l| (n.as_str(), *l)))
            .collect();
        set.into_iter().collect()
    }

    pub(super) fn one_way(&mut self, t: u64, from: &Names, to: &Names) {
        for (who, label, side) in [
            (from, format!("cannot send to {to}"), 4),
            (to, format!("cannot hear from {from}"), 5),
        ] {
            for (node, l) in self.lanes_of(who) {
                let s = span(t, SpanKind::Cut(side), label.clone());
                self.open_shade(node, l, Shade::Cut, s);
            }
        }
        self.open_net_span(t, format!("one-way cut {from} → {to}"));
    }

    pub(super) fn groups(&mut self, t: u64, groups: &Groups, via: Option<&Names>) {
        for (side, g) in groups.0.iter().enumerate() {
            let letter = (b'A' + (side % 26) as u8) as char;
            for (node, l) in self.lanes_of(g) {
                let s = span(t, SpanKind::Cut(side), format!("side {letter}"));
                self.open_shade(node, l, Shade::Cut, s);
            }
        }
        let text = groups.render().unwrap_or_default();
        let label = match via {
            Some(v) => format!("bridge via {v}: {text}"),
            None => format!("partition {text}"),
        };
        self.open_net_span(t, label);
    }

    /// Loss, latency and port faults: one slot each in the network row; a new value ends the
    /// old span, and a value back to normal opens none.
    pub(super) fn net_fault(&mut self, e: &Event) {
        let (slot, label): (&str, Option<String>) = match &e.ev {
            Ev::FaultLoss { rate } => (
                "loss",
                (*rate > 0.0).then(|| format!("datagram loss {rate}")),
            ),
            // Back to the default (1-10 ms) is the end of a latency fault, not a new one.
            Ev::FaultLatency { min_ms, max_ms } => (
                "latency",
                ((*min_ms, *max_ms) != default_latency_ms())
                    .then(|| format!("latency {min_ms}-{max_ms} ms")),
            ),
            Ev::FaultPortDown { instance } => ("port", Some(format!("port {instance} closed"))),
            _ => ("port", None),
        };
        if let Some(mut s) = self.open_net.remove(slot) {
            s.t1 = e.t_us;
            self.net.push(s);
        }
        if let Some(label) = label {
            let s = span(e.t_us, SpanKind::Net, label);
            self.open_net.insert(slot.to_string(), s);
        }
    }

    /// A skewed clock is a span of the network row, one slot per node, until put right.
    pub(super) fn clock_skew(&mut self, e: &Event, offset_ms: i64, drift: f64) {
        let slot = format!("skew {}", e.node);
        if let Some(mut s) = self.open_net.remove(&slot) {
            s.t1 = e.t_us;
            self.net.push(s);
        }
        if offset_ms != 0 || drift != 0.0 {
            let mut label = format!("{} clock {:+.3}s", e.node, offset_ms as f64 / 1000.0);
            if drift != 0.0 {
                label.push_str(&format!(", drift {drift}"));
            }
            self.open_net
                .insert(slot, span(e.t_us, SpanKind::Net, label));
        }
    }

    /// `no_connect`: the nodes that cannot open connections and the nodes they cannot reach
    /// are shaded like a one-way cut, until the next heal.
    pub(super) fn no_connect(&mut self, t: u64, from: &Names, to: &Names, mode: ConnectFail) {
        for (who, label, side) in [
            (from, format!("cannot connect to {to} ({mode})"), 4),
            (to, format!("{from} cannot connect here ({mode})"), 5),
        ] {
            for (node, l) in self.lanes_of(who) {
                let s = span(t, SpanKind::Cut(side), label.clone());
                self.open_shade(node, l, Shade::Cut, s);
            }
        }
        self.open_net_span(t, format!("no_connect {from} → {to} ({mode})"));
    }

    /// A link delay is a span of the network row, one slot per link, until it is set back to
    /// 0 or healed.
    pub(super) fn delay(&mut self, t: u64, from: &Names, to: &Names, extra_ms: u64) {
        let slot = format!("cut delay {from} → {to}");
        if let Some(mut s) = self.open_net.remove(&slot) {
            s.t1 = t;
            self.net.push(s);
        }
        if extra_ms > 0 {
            let label = format!("{from} → {to} delayed +{}", secs_ms(extra_ms));
            self.open_net.insert(slot, span(t, SpanKind::Net, label));
        }
    }

    /// A blocked port shades the node's lane and the network row until it is unblocked or
    /// healed.
    pub(super) fn block_port(&mut self, e: &Event, port: u16, blocked: bool) {
        let Some(&l) = self.lane_of.get(&e.node) else {
            return;
        };
        let node = e.node.clone();
        let slot = format!("cut port {node}:{port}");
        self.close_shade(&node, Shade::Blocked, e.t_us);
        if let Some(mut s) = self.open_net.remove(&slot) {
            s.t1 = e.t_us;
            self.net.push(s);
        }
        if blocked {
            let label = format!("port {port} blocked");
            let s = span(e.t_us, SpanKind::Cut(3), label.clone());
            self.open_shade(&node, l, Shade::Blocked, s);
            let s = span(e.t_us, SpanKind::Net, format!("{node} {label}"));
            self.open_net.insert(slot, s);
        }
    }

    pub(super) fn heal(&mut self, t: u64) {
        let cut: Vec<(String, Shade)> = self
            .open
            .keys()
            .filter(|k| matches!(k.1, Shade::Cut | Shade::Blocked))
            .cloned()
            .collect();
        for (node, which) in cut {
            self.close_shade(&node, which, t);
        }
        let slots: Vec<String> = self
            .open_net
            .keys()
            .filter(|k| k.starts_with("cut"))
            .cloned()
            .collect();
        for slot in slots {
            if let Some(mut s) = self.open_net.remove(&slot) {
                s.t1 = t;
                self.net.push(s);
            }
        }
    }
}

fn default_latency_ms() -> (u64, u64) {
    let d = crate::scenario::DEFAULT_LATENCY;
    (d.start.as_millis() as u64, d.end.as_millis() as u64)
}
