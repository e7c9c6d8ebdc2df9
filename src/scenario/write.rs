//! Scenario pieces back to TOML text: a drawn chaos schedule prints as steps a user can paste
//! into a scenario, and `shrink` writes whole scenarios.

use super::fields::show;
use super::types::Fault;

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

fn list(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| quoted(s)).collect();
    format!("[{}]", items.join(", "))
}

fn groups(g: &[Vec<String>]) -> String {
    let items: Vec<String> = g.iter().map(|x| list(x)).collect();
    format!("[{}]", items.join(", "))
}

fn signed(ms: i64) -> String {
    let d = show(std::time::Duration::from_millis(ms.unsigned_abs()));
    if ms == 0 {
        "0s".into()
    } else if ms < 0 {
        format!("-{d}")
    } else {
        format!("+{d}")
    }
}

/// A fault as the `key = value` line of a `[[step]]`.
pub fn fault_toml(f: &Fault) -> String {
    match f {
        Fault::Crash(n) => format!("crash = {}", quoted(n)),
        Fault::Restart(n) => format!("restart = {}", quoted(n)),
        Fault::Pause(n) => format!("pause = {}", quoted(n)),
        Fault::Resume(n) => format!("resume = {}", quoted(n)),
        Fault::Isolate(n) => format!("isolate = {}", quoted(n)),
        Fault::Heal => "heal = true".into(),
        Fault::HealAll => "heal_all = true".into(),
        Fault::Partition(g) => format!("partition = {}", groups(g)),
        Fault::Ring(order) => format!("ring = {}", list(order)),
        Fault::Bridge { via, sides } => {
            format!(
                "bridge = {{ via = {}, sides = {} }}",
                quoted(via),
                groups(sides)
            )
        }
        Fault::OneWay { from, to } => {
            format!(
                "one_way = {{ from = {}, to = {} }}",
                quoted(from),
                quoted(to)
            )
        }
        Fault::PortDown(a) => format!("port_down = {}", quoted(a)),
        Fault::PortUp(a) => format!("port_up = {}", quoted(a)),
        Fault::Loss(p) => format!("loss = {p}"),
        Fault::Latency(lo, hi) => format!("latency = [{:?}, {:?}]", show(*lo), show(*hi)),
        Fault::ClockSkew {
            node,
            offset_ms,
            drift,
        } => format!(
            "clock_skew = {{ node = {}, offset = {:?}, drift = {drift} }}",
            quoted(node),
            signed(*offset_ms)
        ),
    }
}
