//! `[chaos]`: faults drawn from the seed (issue 5, swarm chaos).
//!
//! ```toml
//! [chaos]
//! faults = ["partition", "crash", "clock_skew"]   # default: every kind the cluster allows
//! start = "10s"                  # first fault no earlier (default 10s)
//! end = "8m"                     # heal_all here (default: duration - 2 × quiet)
//! every = ["5s", "30s"]          # gap between two faults (default)
//! hold = ["5s", "1m"]            # how long a fault stays (default)
//! nodes = "servers"              # or "all": clients can crash, pause, be isolated, skew
//! max_down = 1                   # servers crashed or paused at once (default: a minority)
//! loss = [0.05, 0.5]             # datagram loss rate drawn in this range
//! latency = ["10ms", "500ms"]    # upper end of a drawn latency range
//! delay = ["500ms", "5s"]        # extra one-way delay of a drawn `delay` on one link
//! skew = "30s"                   # largest clock offset either way
//! drift = 0.01                   # largest clock drift either way (s per s)
//! ```

use super::fields::{fail, with_suggestion, Field, Table, R};
use super::types::{ChaosSpec, CHAOS_KINDS};
use std::time::Duration;

const KEYS: &[&str] = &[
    "faults", "start", "end", "every", "hold", "nodes", "max_down", "loss", "latency", "delay",
    "skew", "drift",
];

/// The smallest cluster each kind makes sense for.
pub(crate) fn min_servers(kind: &str) -> usize {
    match kind {
        "partition" | "one_way" | "no_connect" | "delay" => 2,
        "bridge" => 3,
        "ring" => 4,
        _ => 1,
    }
}

fn prob_range(f: &Field) -> R<(f64, f64)> {
    let items = super::fields::as_array(&f.label, f.node, "two probabilities such as [0.05, 0.5]")?;
    let nums: Vec<f64> = items
        .iter()
        .map(|n| super::fields::as_number(&f.label, n))
        .collect::<R<_>>()?;
    match nums[..] {
        [lo, hi] if (0.0..=1.0).contains(&lo) && (lo..=1.0).contains(&hi) => Ok((lo, hi)),
        _ => fail(
            f.at(),
            format!(
                "`{}`: expected two probabilities from 0.0 to 1.0, low then high, such as [0.05, 0.5]",
                f.label
            ),
        ),
    }
}

/// Reads `[chaos]` if present. `servers` is the cluster size, `quiet` the convergence quiet
/// period (chaos must end at least that long before the run does).
pub(crate) fn read_chaos(
    top: &Table,
    duration: Duration,
    servers: usize,
    quiet: Duration,
) -> R<Option<ChaosSpec>> {
    let Some(field) = top.get("chaos") else {
        return Ok(None);
    };
    let example = "a table such as [chaos] faults = [\"partition\", \"crash\"]";
    let t = Table::of(field.node, "chaos", "[chaos]".to_owned(), "chaos", example)?;
    t.check_keys(KEYS, |_| None)?;

    let kinds = match t.get("faults") {
        None => CHAOS_KINDS
            .iter()
            .filter(|k| servers >= min_servers(k))
            .map(|k| k.to_string())
            .collect(),
        Some(f) => {
            let mut picked = Vec::new();
            for (name, node) in
                f.strings("a list of fault kinds such as [\"partition\", \"crash\"]")?
            {
                if !CHAOS_KINDS.contains(&name) {
                    let head = format!("`chaos.faults`: unknown fault kind `{name}`");
                    return fail(
                        node.at(),
                        with_suggestion(head, name, CHAOS_KINDS.iter().copied(), "the kinds are"),
                    );
                }
                if servers < min_servers(name) {
                    return fail(
                        node.at(),
                        format!(
                            "`chaos.faults`: `{name}` needs at least {} servers; the cluster has {servers}",
                            min_servers(name)
                        ),
                    );
                }
                picked.push(name.to_owned());
            }
            if picked.is_empty() {
                return fail(f.at(), "`chaos.faults` is empty: name at least one fault kind, or leave the key out for all of them");
            }
            // Canonical order, so the file's order does not change the draw.
            CHAOS_KINDS
                .iter()
                .filter(|k| picked.iter().any(|p| p == *k))
                .map(|k| k.to_string())
                .collect()
        }
    };
    let dur = |key: &str, default: Duration| -> R<Duration> {
        t.get(key).map_or(Ok(default), |f| f.duration())
    };
    let range = |key: &str, default: (Duration, Duration), ex: &str| -> R<(Duration, Duration)> {
        t.get(key).map_or(Ok(default), |f| f.range(ex))
    };
    let start = dur("start", Duration::from_secs(10))?;
    let end = dur("end", duration.saturating_sub(quiet * 2))?;
    let at = |key: &str| t.get(key).map_or(t.at, |f| f.at());
    if end + quiet > duration {
        return fail(
            at("end"),
            format!(
                "`chaos.end` ({}) leaves less than the quiet period ({}) before the end of the run ({}): \
                 the convergence check needs it; end chaos earlier or make the run longer",
                super::fields::show(end),
                super::fields::show(quiet),
                super::fields::show(duration)
            ),
        );
    }
    if start >= end {
        return fail(
            at("start"),
            format!(
                "`chaos.start` ({}) is not before `chaos.end` ({}): no time for faults",
                super::fields::show(start),
                super::fields::show(end)
            ),
        );
    }
    let every = range(
        "every",
        (Duration::from_secs(5), Duration::from_secs(30)),
        "[\"5s\", \"30s\"]",
    )?;
    if every.0.is_zero() {
        return fail(at("every"), "`chaos.every` must start above 0s");
    }
    let hold = range(
        "hold",
        (Duration::from_secs(5), Duration::from_secs(60)),
        "[\"5s\", \"1m\"]",
    )?;
    if hold.0.is_zero() {
        return fail(at("hold"), "`chaos.hold` must start above 0s");
    }
    let clients_too = match t.get("nodes") {
        None => false,
        Some(f) => match f.nonempty_str()? {
            "servers" => false,
            "all" => true,
            other => {
                return fail(
                    f.at(),
                    format!("`chaos.nodes` = {other:?}: expected \"servers\" or \"all\""),
                )
            }
        },
    };
    let max_down = match t.get("max_down") {
        None => ((servers.saturating_sub(1)) / 2).max(1),
        Some(f) => {
            let n = f.uint()? as usize;
            if n > servers {
                return fail(
                    f.at(),
                    format!("`chaos.max_down` = {n} is more than the {servers} servers"),
                );
            }
            n
        }
    };
    let loss = t.get("loss").map_or(Ok((0.05, 0.5)), |f| prob_range(&f))?;
    let latency = range(
        "latency",
        (Duration::from_millis(10), Duration::from_millis(500)),
        "[\"10ms\", \"500ms\"]",
    )?;
    let delay = range(
        "delay",
        (Duration::from_millis(500), Duration::from_secs(5)),
        "[\"500ms\", \"5s\"]",
    )?;
    if delay.0.is_zero() {
        return fail(
            at("delay"),
            "`chaos.delay` must start above 0s (a zero delay is no fault)",
        );
    }
    if delay.1 > super::fault_steps::MAX_LINK_DELAY {
        return fail(
            at("delay"),
            format!(
                "`chaos.delay` ends at {}: a link delay is at most 24h",
                super::fields::show(delay.1)
            ),
        );
    }
    let skew = dur("skew", Duration::from_secs(30))?;
    let drift = match t.get("drift") {
        None => 0.01,
        Some(f) => {
            let v = f.number()?;
            if !(0.0..=1.0).contains(&v) {
                return fail(
                    f.at(),
                    format!("`chaos.drift` = {v}: expected the largest drift, from 0.0 to 1.0 (s per s)"),
                );
            }
            v
        }
    };
    Ok(Some(ChaosSpec {
        kinds,
        start,
        end,
        every,
        hold,
        clients_too,
        max_down,
        loss,
        latency,
        delay,
        skew,
        drift,
    }))
}
