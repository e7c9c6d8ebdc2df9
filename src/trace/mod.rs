//! The event log: every state change of every node is a typed [`Ev`] value, emitted with
//! [`emit`] where the system makes it. The run's [`Recorder`] (installed as the thread's
//! `tracing` dispatcher for the run) stamps it with virtual time and keeps it. The outcome, the
//! checks, the timeline and the trace hash are all built from this one log (design principle 5).

pub mod event;
pub mod values;

pub use event::{
    kind_info, Anomaly, BeatAbsent, CallResult, ConnectFail, Done, Ev, FieldValue, Groups,
    HealthReason, Host, HostList, KindInfo, Names, NodeState, OrDash, RequestError, Role, RunFirst,
    ServerState, VerifyAbort, Via, WriteOp, WriteResult, KINDS,
};

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// Records one event on `node` (`-` for the network or the harness as a whole) at the current
/// virtual time, if a run is recording (a unit test of a component records nothing).
pub fn emit(node: impl AsRef<str>, ev: Ev) {
    let mut ev = Some(ev);
    tracing::dispatcher::get_default(|d| {
        if let (Some(r), Some(ev)) = (d.downcast_ref::<Recorder>(), ev.take()) {
            r.log.push(Event {
                t_us: now_us(),
                node: node.as_ref().to_string(),
                ev,
            });
        }
    });
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Virtual time since the start of the run, in microseconds.
    pub t_us: u64,
    pub node: String,
    pub ev: Ev,
}

impl Event {
    pub fn t_ms(&self) -> u64 {
        self.t_us / 1000
    }

    pub fn kind(&self) -> &'static str {
        self.ev.kind()
    }

    /// The present fields, rendered, in line order.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![];
        self.ev.each_field(&mut |k, v| out.push((k, v)));
        out
    }

    /// One field rendered as in the event line (for filters a scenario writes by field name).
    pub fn field(&self, name: &str) -> Option<String> {
        let mut out = None;
        self.ev.each_field(&mut |k, v| {
            if k == name && out.is_none() {
                out = Some(v);
            }
        });
        out
    }

    /// `kind k=v k=v`.
    pub fn line(&self) -> String {
        let mut s = self.kind().to_string();
        self.ev.each_field(&mut |k, v| {
            let _ = write!(s, " {k}={v}");
        });
        s
    }

    /// One line with the node: `kind node k=v k=v`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.kind(), self.node);
        self.ev.each_field(&mut |k, v| {
            let _ = write!(s, " {k}={v}");
        });
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

/// The recorder of one run. A run installs it as the `tracing` dispatcher of its simulation
/// thread, and [`emit`] finds it there; as a subscriber it enables nothing, so madsim's own
/// spans and events cost nothing.
pub struct Recorder {
    log: Log,
}

impl Recorder {
    pub fn new(log: Log) -> Self {
        Recorder { log }
    }
}

/// Virtual time since the runtime started (0 outside a simulation). In the live build (issue
/// 12) the wall clock instead, in microseconds since the Unix epoch: a node's clock then reads
/// epoch milliseconds, as Nacos's `System.currentTimeMillis()` does.
pub fn now_us() -> u64 {
    #[cfg(madsim)]
    {
        madsim::time::TimeHandle::try_current()
            .map(|h| h.elapsed().as_micros() as u64)
            .unwrap_or(0)
    }
    #[cfg(not(madsim))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64)
    }
}

impl tracing::Subscriber for Recorder {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::never()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
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
        feed(e.kind().as_bytes());
        feed(b" ");
        feed(e.node.as_bytes());
        e.ev.each_field(&mut |k, v| {
            feed(b" ");
            feed(k.as_bytes());
            feed(b"=");
            feed(v.as_bytes());
        });
        feed(b"\n");
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorder_keeps_emitted_events_in_order_and_ignores_tracing() {
        let log = Log::default();
        tracing::subscriber::with_default(Recorder::new(log.clone()), || {
            let span = tracing::info_span!("node", id = 3);
            let _g = span.enter();
            emit(
                "s1",
                Ev::InstanceUnhealthy {
                    service: "orders".into(),
                    instance: "1.1.1.1:80".into(),
                    since_beat_ms: Some(15001),
                    reason: None,
                },
            );
            tracing::warn!("not ours");
            emit("p1", Ev::FaultCrash { target: None });
        });
        let ev = log.snapshot();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].kind(), "instance.unhealthy");
        assert_eq!(ev[0].field("instance").as_deref(), Some("1.1.1.1:80"));
        assert_eq!(ev[0].field("reason"), None);
        assert_eq!(
            ev[0].describe(),
            "instance.unhealthy s1 service=orders instance=1.1.1.1:80 since_beat_ms=15001"
        );
        assert_eq!(ev[1].describe(), "fault.crash p1");
        // Outside a run, emitting records nothing and does not panic.
        emit("s1", Ev::FaultHeal {});
    }

    #[test]
    fn hash_depends_on_content_and_order() {
        let a = Event {
            t_us: 1,
            node: "n".into(),
            ev: Ev::FaultHeal {},
        };
        let b = Event {
            t_us: 2,
            node: "n".into(),
            ev: Ev::FaultHealAll {},
        };
        let h1 = trace_hash(&[a.clone(), b.clone()]);
        assert_eq!(h1, trace_hash(&[a.clone(), b.clone()]));
        assert_ne!(h1, trace_hash(&[b, a.clone()]));
        let mut a2 = a.clone();
        a2.ev = Ev::FaultPortDown {
            instance: "x".into(),
        };
        assert_ne!(trace_hash(&[a]), trace_hash(&[a2]));
        assert_eq!(trace_hash(&[]).len(), 16);
    }
}
