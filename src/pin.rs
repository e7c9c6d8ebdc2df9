//! `nacos-sim shrink --pin`: turn a failing run into a passing scenario that asserts the failure,
//! so a known flaw of Nacos 1.4.1 is pinned by a regression file (`regressions/`) instead of
//! failing every run. If the flaw ever goes away, the pinned expectation fails and says so.
//!
//! What pinning means for each kind of failing check:
//!
//! - **An always-on checker** (two leaders, dirty or lost write, divergence) reports its finding
//!   as an `anomaly.<kind>` event; the pin is `[[expect]] anomaly = "<kind>"`, which replaces the
//!   always-on check and passes exactly when the checker reports that anomaly.
//! - **An event expectation** passes on "at least one matching event" or, with `never = true`,
//!   on "none". The two are exact complements, so the pin flips `never`: the pinned check passes
//!   exactly when the original fails.
//! - **A view expectation** states exact instance sets; its failure only says what the view was
//!   *not*, which no view expectation can state. Refused: edit it by hand to what the run saw.
//! - **An anomaly expectation** that fails was not reported: the flaw it pinned is gone on this
//!   seed, and there is nothing to pin. Refused.
//! - **A panic** is a bug of the simulation or the harness, never a behaviour of Nacos. Refused.

use crate::check::ANOMALIES;
use crate::report::Outcome;
use crate::scenario::{Expect, Scenario};

fn anomaly(kind: &str) -> Expect {
    Expect::Anomaly {
        label: None,
        kind: kind.to_owned(),
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

/// Pins every failing check of `o`, the run of `sc` with seed `o.seed` (a failed always-on
/// check costs one more run, to ask which anomalies were reported). Errors name the check that
/// cannot be pinned and why. Expectations only observe, so the pinned scenario plays the same
/// run; run it to confirm that it passes.
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
                    c.name, c.detail
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
            Expect::View { .. } => {
                return Err(format!(
                    "cannot pin `{}` ({}): a view expectation states exact instance sets, and \
                     its failure only says what the view was not; edit the expectation by hand \
                     to what the run saw, or pin another failing check with --check",
                    c.name, c.detail
                ))
            }
        }
    }
    if !always_on.is_empty() {
        // Which anomalies did the checkers report? Ask through expectations, which only
        // observe: the same run with `anomaly = "<kind>"` for every kind not yet expected.
        let expected = |kind: &str| {
            sc.expects
                .iter()
                .any(|e| matches!(e, Expect::Anomaly { kind: k, .. } if k == kind))
        };
        let kinds: Vec<&str> = ANOMALIES.iter().copied().filter(|k| !expected(k)).collect();
        let mut probe = sc.clone();
        probe.expects.extend(kinds.iter().map(|k| anomaly(k)));
        let (po, _) = crate::sim::run(&probe, o.seed);
        let first = sc.expects.len();
        let reported: Vec<(&str, &str)> = kinds
            .iter()
            .zip(po.checks.get(first..).unwrap_or_default())
            .filter(|(_, c)| c.passed)
            .map(|(k, c)| (*k, c.detail.as_str()))
            .collect();
        if reported.is_empty() {
            let c = always_on[0];
            return Err(format!(
                "cannot pin `{}` ({}): it reported no anomaly that an `anomaly = ...` \
                 expectation can name ({})",
                c.name,
                c.detail,
                ANOMALIES.join(", ")
            ));
        }
        for (kind, detail) in reported {
            out.expects.push(anomaly(kind));
            pins.push(format!("{kind} ({detail}): pinned as anomaly = \"{kind}\""));
        }
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
