//! `nacos-sim shrink --pin`: turn a failing run into a passing scenario that asserts the failure,
//! so a known flaw of Nacos 1.4.1 is pinned by a regression file (`regressions/`) instead of
//! failing every run. If the flaw ever goes away, the pinned expectation fails and says so.
//!
//! What pinning means for each kind of failing check:
//!
//! - **An always-on checker** (two leaders, dirty or lost write, divergence) carries its
//!   findings, each naming its anomaly; the pin is `[[expect]] anomaly = "<kind>"` for each kind
//!   found, which replaces the always-on check and passes exactly when the checker reports it.
//! - **An event expectation** passes on "at least one matching event" or, with `never = true`,
//!   on "none". The two are exact complements, so the pin flips `never`: the pinned check passes
//!   exactly when the original fails.
//! - **A view expectation** states exact instance sets; its failure only says what the view was
//!   *not*, which no view expectation can state. Refused: edit it by hand to what the run saw.
//! - **An anomaly expectation** that fails was not reported: the flaw it pinned is gone on this
//!   seed, and there is nothing to pin. Refused.
//! - **A panic** is a bug of the simulation or the harness, never a behaviour of Nacos. Refused.

use crate::check::{Expected, Observed, Precision};
use crate::report::Outcome;
use crate::scenario::{Expect, Scenario};
use crate::trace::Anomaly;
use std::collections::BTreeMap;

fn anomaly(kind: Anomaly) -> Expect {
    Expect::Anomaly {
        label: None,
        kind,
        line: 0,
    }
}

/// A scenario with its failures turned into expectations.
#[derive(Debug, Clone)]
pub struct Pinned {
    pub scenario: Scenario,
    /// One line per pinned failure: what failed and what now asserts it.
    pub pins: Vec<String>,
}

/// Pins every failing check of `o`, the run of `sc` with seed `o.seed`. Errors name the check
/// that cannot be pinned and why. Expectations only observe, so the pinned scenario plays the
/// same run; run it to confirm that it passes.
pub fn pin(sc: &Scenario, o: &Outcome) -> Result<Pinned, String> {
    if let Some(p) = &o.panic {
        return Err(format!(
            "cannot pin a panic ({p}): it is a bug of the simulation or the harness, not a \
             behaviour of Nacos to pin; fix it instead"
        ));
    }
    let mut out = sc.clone();
    let mut pins = Vec::new();
    let mut always_on = Vec::new();
    // The first checks are the scenario's expectations, in order; the always-on checks follow.
    for (k, c) in o.checks.iter().enumerate().filter(|(_, c)| !c.passed) {
        let Some(e) = out.expects.get_mut(k) else {
            always_on.push(c);
            continue;
        };
        match e {
            Expect::Event { label, never, .. } => {
                *never = !*never;
                if let Some(l) = label {
                    *l = format!("pinned, inverted: {l}");
                }
                let now = if *never {
                    "never = true"
                } else {
                    "never = false (at least one)"
                };
                pins.push(format!(
                    "`{}` failed ({}): inverted to {now}",
                    c.name,
                    c.detail(Precision::Ms)
                ));
            }
            Expect::Anomaly { kind, .. } => {
                return Err(format!(
                    "cannot pin `{}`: the expected anomaly `{kind}` was not reported on this seed, \
                     so the flaw it pins is gone here; to assert its absence, delete the \
                     expectation (the always-on checker then guards it)",
                    c.name
                ))
            }
            Expect::Availability { .. } | Expect::StaleRouting { .. } => {
                return Err(format!(
                    "cannot pin `{}` ({}): an availability figure is a bound, not a yes or no; \
                     edit the bound by hand to what the run measured",
                    c.name,
                    c.detail(Precision::Ms)
                ))
            }
            Expect::View { .. } => {
                return Err(format!(
                    "cannot pin `{}` ({}): a view expectation states exact instance sets, and \
                     its failure only says what the view was not; edit the expectation by hand \
                     to what the run saw, or pin another failing check with --check",
                    c.name,
                    c.detail(Precision::Ms)
                ))
            }
        }
    }
    // An always-on check's findings name their anomalies.
    let mut found: BTreeMap<Anomaly, Vec<&str>> = BTreeMap::new();
    for c in &always_on {
        let Expected::Invariant { .. } = c.expected else {
            continue;
        };
        if let Observed::Findings { findings, .. } = &c.observed {
            for f in findings {
                found.entry(f.anomaly).or_default().push(f.text.as_str());
            }
        }
    }
    if let (Some(c), true) = (always_on.first(), found.is_empty()) {
        return Err(format!(
            "cannot pin `{}` ({}): it reported no anomaly that an `anomaly = ...` \
             expectation can name",
            c.name,
            c.detail(Precision::Ms)
        ));
    }
    for (kind, texts) in found {
        out.expects.push(anomaly(kind));
        pins.push(format!(
            "{kind} ({}): pinned as anomaly = \"{kind}\"",
            texts.join("; ")
        ));
    }
    if pins.is_empty() {
        return Err(format!(
            "seed {} passes every check: there is nothing to pin",
            o.seed
        ));
    }
    Ok(Pinned {
        scenario: out,
        pins,
    })
}
