//! Checks as data: each [`Check`] carries what was expected ([`Expected`]), what decided its
//! verdict ([`Observed`]), and the verdict. The text and JSON outcomes, the snapshots and the
//! timeline all read these values; the words of a check are made from them only when shown.
//!
//! `expect.rs` judges a scenario's `[[expect]]`s from samples and the event log; `always.rs`
//! holds the policy of the always-on checkers (convergence, Raft safety) over a plain end-of-run
//! value built by the harness.

pub mod always;
pub mod availability;
pub mod convergence;
pub mod coverage;
mod expect;
pub mod jraft;
mod leaders;
pub mod raft;
mod samples;
mod text;

pub use always::{always_on, EndState};
pub use expect::evaluate;
pub use samples::{Observations, Sample, Samples};
pub use text::Precision;

use crate::trace::Anomaly;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};

/// The result of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The `name` the scenario gave it, or words made from what it expects.
    pub name: String,
    /// Whether the name was given by the scenario (then the outcome also shows the expectation).
    pub named: bool,
    pub passed: bool,
    pub expected: Expected,
    pub observed: Observed,
}

impl Check {
    /// A check of the scenario's: its name is the label if there is one, else generated.
    pub fn new(
        label: Option<&String>,
        passed: bool,
        expected: Expected,
        observed: Observed,
    ) -> Check {
        Check {
            name: label.cloned().unwrap_or_else(|| expected.describe()),
            named: label.is_some(),
            passed,
            expected,
            observed,
        }
    }

    /// Not judged (an always-on checker that does not apply to this run); it does not fail it.
    pub fn skipped(&self) -> bool {
        matches!(self.observed, Observed::Skipped { .. })
    }

    /// What was observed, in words (the JSON `detail`).
    pub fn detail(&self, p: Precision) -> String {
        self.describe_observed(p)
    }
}

/// A moment of the run, in milliseconds (JSON) or microseconds (in memory).
fn as_ms<S: Serializer>(t_us: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(t_us / 1000)
}

/// The view a check looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Viewer {
    /// A client's cached view.
    Client(String),
    /// A server's `/instance/list` view.
    Server(String),
}

impl Viewer {
    pub fn node(&self) -> &str {
        match self {
            Viewer::Client(n) | Viewer::Server(n) => n,
        }
    }
}

/// When a view expectation must hold (times in ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Timing {
    At {
        at_ms: u64,
    },
    /// At some moment of the window.
    Within {
        from_ms: u64,
        to_ms: u64,
    },
    /// At every moment of the window.
    Always {
        from_ms: u64,
        to_ms: u64,
    },
}

impl Timing {
    /// The window, in µs (a point for `At`).
    pub fn window_us(&self) -> (u64, u64) {
        match *self {
            Timing::At { at_ms } => (at_ms * 1000, at_ms * 1000),
            Timing::Within { from_ms, to_ms } | Timing::Always { from_ms, to_ms } => {
                (from_ms * 1000, to_ms * 1000)
            }
        }
    }
}

/// The always-on checkers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Invariant {
    /// Servers converge once faults heal, after this quiet period.
    Convergence { quiet_ms: u64 },
    /// The anomaly must not be found.
    No(Anomaly),
}

/// What a check expects, as data.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expected {
    View {
        viewer: Viewer,
        /// The service as written (`orders`, or `group@@orders`).
        service: String,
        clusters: Vec<String>,
        instances: Option<BTreeSet<String>>,
        healthy: Option<BTreeSet<String>>,
        when: Timing,
    },
    Event {
        event: String,
        /// `true`: no matching event may happen.
        never: bool,
        node: Option<String>,
        service: Option<String>,
        instance: Option<String>,
        /// Further fields that must equal these values.
        fields: BTreeMap<String, String>,
        /// In ms; `None` = the whole run.
        window: Option<(u64, u64)>,
    },
    /// `anomaly = "..."`: the checker must report it.
    Anomaly { anomaly: Anomaly },
    /// An always-on checker.
    Invariant { invariant: Invariant },
    /// `availability`: at least `min` of the consumer's calls succeeded (in the window, in ms;
    /// `None` = the whole run).
    Availability {
        client: String,
        service: String,
        min: f64,
        window: Option<(u64, u64)>,
    },
    /// `stale_routing`: no call went to a dead instance more than `max_ms` after it died.
    StaleRouting {
        client: String,
        service: String,
        max_ms: u64,
    },
    /// The simulation must not panic.
    NoPanic,
}

/// One view as sampled: the `ip:port` set and the healthy subset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeenView {
    pub instances: BTreeSet<String>,
    pub healthy: BTreeSet<String>,
}

/// An event a check matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seen {
    #[serde(rename = "t_ms", serialize_with = "as_ms")]
    pub t_us: u64,
    pub node: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// Where and when a finding happened (a node's lane at a moment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Point {
    #[serde(rename = "t_ms", serialize_with = "as_ms")]
    pub t_us: u64,
    pub node: String,
}

/// One finding of an always-on checker, with the events behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub anomaly: Anomaly,
    /// The finding in words (also the `detail` of its `anomaly.*` event).
    pub text: String,
    /// The events it rests on: where and when.
    pub points: Vec<Point>,
}

/// What decided a check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observed {
    /// The deciding sample of a view: the first that held (`within`), the first that broke
    /// (`always`), the one at the time (`at`), or the last one when none held. `view` is `None`
    /// when the node was down.
    Sample {
        #[serde(rename = "t_ms", serialize_with = "as_ms")]
        t_us: u64,
        view: Option<SeenView>,
        /// Samples taken in the window.
        samples: usize,
    },
    /// No sample: the run ended before the expectation's time.
    NoSample,
    /// Matching events: in the window (`matched`) and outside it (`outside`).
    Events {
        matched: Vec<Seen>,
        outside: Vec<Seen>,
    },
    /// The always-on checker's findings (none when it passed).
    Findings {
        findings: Vec<Finding>,
        /// When the checker ran (the end of the run).
        #[serde(rename = "t_ms", serialize_with = "as_ms")]
        t_us: u64,
    },
    /// Convergence held: this many servers agree on every service.
    Agreement { servers: usize },
    /// The checker did not apply to this run.
    Skipped { reason: String },
    /// The consumer's calls in the window.
    Calls { calls: u64, ok: u64 },
    /// The longest stale-routing window (`None`: no call went to a dead instance).
    Stale { stale: Option<availability::Stale> },
    /// The simulation panicked with this message.
    Panic { message: String },
}

impl Serialize for Check {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Check", 6)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("passed", &self.passed)?;
        st.serialize_field("skipped", &self.skipped())?;
        st.serialize_field("detail", &self.detail(Precision::Ms))?;
        st.serialize_field("expected", &self.expected)?;
        st.serialize_field("observed", &self.observed)?;
        st.end()
    }
}
