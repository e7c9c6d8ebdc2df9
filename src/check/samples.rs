//! Samples of the views that `[[expect]]`s look at, taken by the harness during the run.

use crate::model::HostView;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One observed view: the `ip:port` set and the healthy subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub instances: BTreeSet<String>,
    pub healthy: BTreeSet<String>,
}

impl Sample {
    pub fn of(hosts: &[HostView]) -> Sample {
        Sample {
            instances: hosts.iter().map(|h| h.ip_port()).collect(),
            healthy: hosts
                .iter()
                .filter(|h| h.healthy)
                .map(|h| h.ip_port())
                .collect(),
        }
    }
}

/// Observations of one expectation: (virtual time, the view or None when the node was down).
pub type Observations = Vec<(Duration, Option<Sample>)>;

/// Samples per expectation index, and the consumers' call tallies (issue 13).
#[derive(Clone, Default)]
pub struct Samples(
    Arc<Mutex<BTreeMap<usize, Observations>>>,
    Arc<Mutex<Traffic>>,
);

/// Each consumer's tally per (client, service key) (see [`super::availability`]).
pub type Traffic = BTreeMap<(String, String), super::availability::Tally>;

impl Samples {
    pub fn push(&self, k: usize, t: Duration, s: Option<Sample>) {
        self.0.lock().unwrap().entry(k).or_default().push((t, s));
    }

    pub fn is_empty(&self, k: usize) -> bool {
        self.0.lock().unwrap().get(&k).is_none_or(|v| v.is_empty())
    }

    /// Runs `f` on the call tallies (the traffic driver records into them).
    pub fn traffic<T>(&self, f: impl FnOnce(&mut Traffic) -> T) -> T {
        f(&mut self.1.lock().unwrap())
    }

    pub(super) fn get(&self, k: usize) -> Observations {
        self.0.lock().unwrap().get(&k).cloned().unwrap_or_default()
    }
}
