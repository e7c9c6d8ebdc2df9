//! The event log: every state change of every node is a `tracing` event with target `nacos`;
//! a [`Recorder`] layer stamps it with virtual time and keeps it. The outcome, the checks and
//! the trace hash are all built from this one log (design principle 5).

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer};

/// The tracing target every simulator event uses.
pub const TARGET: &str = "nacos";

/// Emits one structured event: `emit!("instance.unhealthy", node, service = s, instance = i)`.
/// Field values are rendered with `Display`.
#[macro_export]
macro_rules! emit {
    ($kind:literal, $node:expr $(, $k:ident = $v:expr)* $(,)?) => {
        ::tracing::info!(target: "nacos", kind = $kind, node = %$node $(, $k = %$v)*)
    };
}

/// Every event kind the simulator emits (scenario `event =` expectations are checked against
/// this list, so a misspelt kind is an error instead of a `never` that tests nothing).
pub const KINDS: &[&str] = &[
    "anomaly.dirty_write",
    "anomaly.divergence",
    "anomaly.lost_write",
    "anomaly.two_leaders",
    "client.call",
    "client.notified",
    "client.push_received",
    "client.request_failed",
    "client.reregister",
    "distro.forward",
    "distro.load",
    "distro.sync",
    "distro.verify",
    "fault.clock_skew",
    "fault.crash",
    "fault.heal",
    "fault.heal_all",
    "fault.bridge",
    "fault.isolate",
    "fault.latency",
    "fault.loss",
    "fault.one_way",
    "fault.panic",
    "fault.partition",
    "fault.pause",
    "fault.port_down",
    "fault.port_up",
    "fault.restart",
    "fault.resume",
    "fault.ring",
    "instance.deleted",
    "instance.deregistered",
    "instance.healthy",
    "instance.registered",
    "instance.unhealthy",
    "member.state",
    "push.acked",
    "push.failed",
    "push.sent",
    "raft.delete",
    "raft.leader",
    "raft.publish",
    "raft.state",
    "server.started",
    "service.created",
    "service.deleted",
];

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Virtual time since the start of the run, in microseconds.
    pub t_us: u64,
    pub kind: String,
    pub node: String,
    /// Other fields in emission order.
    pub fields: Vec<(String, String)>,
}

impl Event {
    pub fn t_ms(&self) -> u64 {
        self.t_us / 1000
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// One line: `kind node k=v k=v`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.kind, self.node);
        for (k, v) in &self.fields {
            let _ = write!(s, " {k}={v}");
        }
        s
    }
}

/// Shared, append-only event log of one run.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Event>>>);

impl Log {
    pub fn push(&self, e: Event) {
        self.0.lock().unwrap().push(e);
    }

    pub fn snapshot(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }

    /// Moves every event out of the log (the end of a run: no copy of a large log).
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The tracing layer that records `nacos` events into a [`Log`] with virtual time.
pub struct Recorder {
    log: Log,
}

impl Recorder {
    pub fn new(log: Log) -> Self {
        Recorder { log }
    }
}

#[derive(Default)]
struct Fields {
    kind: String,
    node: String,
    rest: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field.name(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field.name(), value.to_string());
    }
}

impl Fields {
    fn put(&mut self, name: &str, v: String) {
        match name {
            "kind" => self.kind = v,
            "node" => self.node = v,
            "message" if v.is_empty() => {}
            _ => self.rest.push((name.to_string(), v)),
        }
    }
}

/// Virtual time since the runtime started (0 outside a simulation).
pub fn now_us() -> u64 {
    #[cfg(madsim)]
    {
        madsim::time::TimeHandle::try_current()
            .map(|h| h.elapsed().as_micros() as u64)
            .unwrap_or(0)
    }
    #[cfg(not(madsim))]
    {
        0
    }
}

impl Recorder {
    fn record(&self, event: &tracing::Event<'_>) {
        let mut f = Fields::default();
        event.record(&mut f);
        self.log.push(Event {
            t_us: now_us(),
            kind: f.kind,
            node: f.node,
            fields: f.rest,
        });
    }
}

/// As a layer, for composing with other tracing-subscriber layers (e.g. a log printer).
impl<S: tracing::Subscriber> Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == TARGET {
            self.record(event);
        }
    }
}

/// As a subscriber on its own, which is what a run installs: it takes only `nacos` events and
/// disables every span and every other event, so madsim's per-task spans cost nothing (a
/// span-storing registry was ~8% of a benchmark run).
impl tracing::Subscriber for Recorder {
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if meta.is_event() && meta.target() == TARGET {
            tracing::subscriber::Interest::always()
        } else {
            tracing::subscriber::Interest::never()
        }
    }
    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        meta.is_event() && meta.target() == TARGET
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() == TARGET {
            Recorder::record(self, event);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// FNV-1a 64 over the canonical text of every event: same build + same seed = same hash.
pub fn trace_hash(events: &[Event]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    // The canonical text of an event is `t_us kind node k=v ...\n`, fed piece by piece.
    for e in events {
        feed(e.t_us.to_string().as_bytes());
        feed(b" ");
        feed(e.kind.as_bytes());
        feed(b" ");
        feed(e.node.as_bytes());
        for (k, v) in &e.fields {
            feed(b" ");
            feed(k.as_bytes());
            feed(b"=");
            feed(v.as_bytes());
        }
        feed(b"\n");
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::prelude::*;

    #[test]
    fn recorder_keeps_nacos_events_in_order_with_fields() {
        let log = Log::default();
        let sub = tracing_subscriber::registry().with(Recorder::new(log.clone()));
        tracing::subscriber::with_default(sub, || {
            emit!(
                "instance.unhealthy",
                "s1",
                service = "orders",
                instance = "1.1.1.1:80"
            );
            tracing::info!(target: "other", "ignored");
            emit!("push.sent", "s1");
        });
        let ev = log.snapshot();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].kind, "instance.unhealthy");
        assert_eq!(ev[0].node, "s1");
        assert_eq!(ev[0].get("instance"), Some("1.1.1.1:80"));
        assert_eq!(ev[1].describe(), "push.sent s1");
    }

    #[test]
    fn recorder_alone_is_a_subscriber_that_ignores_spans() {
        let log = Log::default();
        tracing::subscriber::with_default(Recorder::new(log.clone()), || {
            let span = tracing::info_span!("node", id = 3);
            let _g = span.enter();
            emit!("fault.crash", "p1");
            tracing::warn!("not ours");
        });
        let ev = log.snapshot();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].describe(), "fault.crash p1");
    }

    #[test]
    fn kinds_lists_exactly_the_emitted_kinds() {
        // Scan the sources for `emit!("kind"` so a new event kind cannot be forgotten here.
        fn scan(dir: &std::path::Path, out: &mut std::collections::BTreeSet<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    scan(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let src = std::fs::read_to_string(&p).unwrap();
                    for part in src.split("emit!(").skip(1) {
                        let rest = part.trim_start();
                        if let Some(r) = rest.strip_prefix('"') {
                            out.insert(r[..r.find('"').unwrap()].to_string());
                        }
                    }
                }
            }
        }
        let mut found = std::collections::BTreeSet::new();
        scan(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        found.remove("kind"); // the macro's own definition and doc example
        found.retain(|k| {
            k.contains('.')
                && k.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
        });
        let listed: std::collections::BTreeSet<String> =
            KINDS.iter().map(|s| s.to_string()).collect();
        assert_eq!(found, listed);
    }

    #[test]
    fn hash_depends_on_content_and_order() {
        let a = Event {
            t_us: 1,
            kind: "a".into(),
            node: "n".into(),
            fields: vec![],
        };
        let b = Event {
            t_us: 2,
            kind: "b".into(),
            node: "n".into(),
            fields: vec![],
        };
        let h1 = trace_hash(&[a.clone(), b.clone()]);
        assert_eq!(h1, trace_hash(&[a.clone(), b.clone()]));
        assert_ne!(h1, trace_hash(&[b, a]));
        assert_eq!(trace_hash(&[]).len(), 16);
    }
}
